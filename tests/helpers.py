"""What tests say to a running gateway, and how they read its answers.

``Gateway`` is the one client every test drives an app with: GraphQL operations the way a
frontend sends them (``execute``), raw HTTP on ``/graphql`` (``request``/``post``/``get``), and
the SQL statements and upstream calls each cost, so an N+1 or a refused request that still
touched a backend fails the suite.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from auth.api_keys import ApiKeys
from demo.catalog import Catalog, ContentStatus
from tests.idp import LocalIdentityProvider

#: The Accept header the GraphQL-over-HTTP spec recommends, as Apollo Client and urql send it:
#: the modern media type first (request errors are 400), the legacy one (where they are 200) as
#: a fallback. A test about the legacy type sends ``Accept: application/json`` itself.
RECOMMENDED_ACCEPT = "application/graphql-response+json, application/json;q=0.9"

#: Headers of a well-behaved JSON client: not a simple request, so CSRF prevention lets it in.
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}

#: The address every test client calls from (TEST-NET-3): anonymous budgets are per address.
CLIENT_ADDRESS = ("203.0.113.7", 4711)


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]


@dataclass(frozen=True)
class Calls:
    sql: int
    content: int
    recommendations: int
    payments: int = 0


@dataclass
class Gateway:
    """A running gateway app and an HTTP client on it."""

    app: Starlette
    http: httpx.AsyncClient
    identity_provider: LocalIdentityProvider

    def token(self, subject: str, *scopes: str, **claims: Any) -> str:
        return self.identity_provider.mint(subject=subject, scopes=scopes, **claims)

    @property
    def resources(self) -> Any:
        return self.app.state.resources

    def statements(self) -> int:
        return int(self.resources.metrics.datasources.database_statements())

    def calls(self, source: str) -> int:
        """Calls made so far to one backend: ``content``, ``recommendations`` or ``database``."""
        return int(self.resources.metrics.datasources.calls(source))

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        """POST an operation as JSON, the way a frontend's GraphQL client does."""
        all_headers = {"Accept": RECOMMENDED_ACCEPT, **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        return GraphQLResponse(response.status_code, response.json(), response.headers)

    async def counted(self, query: str, **kwargs: Any) -> tuple[GraphQLResponse, int]:
        """The response and the number of SQL statements it took."""
        before = self.statements()
        response = await self.execute(query, **kwargs)
        return response, self.statements() - before

    async def costed(self, query: str, **kwargs: Any) -> tuple[GraphQLResponse, Calls]:
        """The response and the calls it made to every backend."""
        sources = ("database", "content", "recommendations", "payments")
        before = {source: self.calls(source) for source in sources}
        response = await self.execute(query, **kwargs)
        after = {source: self.calls(source) for source in sources}
        return response, Calls(
            sql=after["database"] - before["database"],
            content=after["content"] - before["content"],
            recommendations=after["recommendations"] - before["recommendations"],
            payments=after["payments"] - before["payments"],
        )

    async def request(
        self, method: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[httpx.Response, int]:
        """The response to one raw request on /graphql, and the SQL statements it cost."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        before = self.statements()
        response = await self.http.request(method, "/graphql", headers=headers, **kwargs)
        return response, self.statements() - before

    async def post(
        self, body: Any, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, int]:
        return await self.request(
            "POST", token=token, json=body, headers={**JSON_HEADERS, **(headers or {})}
        )

    async def get(
        self, params: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, int]:
        """GET an operation as GET-mode clients do: no cookie, so no CSRF preflight header."""
        return await self.request(
            "GET", params=params, headers={"Accept": RECOMMENDED_ACCEPT, **(headers or {})}
        )


def codes(response: httpx.Response) -> list[str]:
    """Every error code of a raw answer, a batch's included, in order."""
    body = response.json()
    items = body if isinstance(body, list) else [body]
    return [error["extensions"]["code"] for item in items for error in item.get("errors") or ()]


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def key_header(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def key_service(gateway: Gateway) -> ApiKeys:
    service: ApiKeys = gateway.resources.api_keys
    return service


async def issue_key(gateway: Gateway, *scopes: str, **options: Any) -> str:
    """A partner key made straight through the service, as the operator CLI makes one."""
    created = await key_service(gateway).create(
        name=options.pop("name", "test partner"), scopes=list(scopes), **options
    )
    return created.key


def first_draft(catalog: Catalog) -> int:
    """A content id the catalog holds as a draft (visible only with ``content:read``)."""
    return next(item.id for item in catalog.items if item.status is ContentStatus.DRAFT)
