"""Gateways with protection settings changed, and a client that speaks raw HTTP to them while
counting the SQL each request costs (a refused request must cost none)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings
from tests.idp import LocalIdentityProvider
from tests.transactional import TransactionalDatabase

#: Headers of a well-behaved JSON client: not a simple request, so CSRF prevention lets it in.
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}


@dataclass
class Gateway:
    app: Starlette
    http: httpx.AsyncClient
    identity_provider: LocalIdentityProvider

    def token(self, *scopes: str, subject: str = "protection-subject") -> str:
        return self.identity_provider.mint(subject=subject, scopes=scopes)

    def statements(self) -> int:
        return int(self.app.state.resources.metrics.datasources.database_statements())

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
        return await self.request(
            "GET",
            params=params,
            headers={"apollo-require-preflight": "true", **(headers or {})},
        )


def codes(response: httpx.Response) -> list[str]:
    body = response.json()
    items = body if isinstance(body, list) else [body]
    return [error["extensions"]["code"] for item in items for error in item.get("errors") or ()]


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def gateway_with(
    settings: Settings,
    connection: AsyncConnection,
    identity_provider: LocalIdentityProvider,
) -> AsyncIterator[GatewayFactory]:
    """``await gateway_with(max_depth=3)``: a gateway on the test's transaction and Redis prefix."""
    async with AsyncExitStack() as stack:

        async def build(**overrides: Any) -> Gateway:
            database = TransactionalDatabase(connection)
            application = create_app(settings.model_copy(update=overrides), database=database)
            stack.push_async_callback(database.wait_idle)
            await stack.enter_async_context(application.router.lifespan_context(application))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
                )
            )
            return Gateway(app=application, http=http, identity_provider=identity_provider)

        yield build


@pytest.fixture
async def gateway(gateway_with: GatewayFactory) -> Gateway:
    return await gateway_with()
