"""What is measured: the plain-JSON reference and the GraphQL queries compared with it.

Each scenario states how many SQL statements one request should cost. The dataloaders promise a
constant number per query whatever the size of its lists, so a different count is a regression
the report points out, not noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from auth.dev_issuer import DevIssuer
from auth.scopes import Scope
from bench.load import Check, Request
from datasources.seed import FIRST_USER_SUBJECT

REFERENCE = "plain-json"
TOKEN_TTL_SECONDS = 3600
STAFF_SUBJECT = "bench-staff"

Q1 = "{ me { id name } }"
Q2 = (
    "{ users(first: 50) { edges { node { orders(first: 10) { edges { node {"
    " lines { quantity unitPrice { amount } } } } } } } } }"
)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    request: Request
    check: Check
    expected_statements: float


def _graphql_data(response: httpx.Response, accept: Callable[[Any], bool]) -> str | None:
    """``None`` for a 200 with ``data`` that ``accept`` likes and no ``errors``; else why not."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"not JSON: {response.text[:200]}"
    if not isinstance(body, dict):
        return f"not a GraphQL response: {response.text[:200]}"
    if body.get("errors"):
        return f"GraphQL errors: {orjson.dumps(body['errors'])[:300].decode()}"
    if not accept(body.get("data")):
        return f"unexpected data: {response.text[:200]}"
    return None


def _check_healthz(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if orjson.loads(response.content) != {"status": "ok"}:
        return f"unexpected body: {response.text[:200]}"
    return None


def _check_me(response: httpx.Response) -> str | None:
    # ``me`` is null rather than an error when the subject has no user row: count that too.
    return _graphql_data(response, lambda data: bool(data and data.get("me")))


def _check_users(response: httpx.Response) -> str | None:
    return _graphql_data(response, lambda data: bool(data and data["users"]["edges"]))


def _graphql(query: str, token: str) -> Request:
    return Request(
        method="POST",
        path="/graphql",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        json={"query": query},
    )


def build_scenarios(issuer: DevIssuer, *, audience: str) -> list[Scenario]:
    """The scenarios in the order they run; the reference comes first."""
    user_token = issuer.mint(
        subject=FIRST_USER_SUBJECT,
        scopes=[Scope.USERS_READ, Scope.ORDERS_READ],
        audience=audience,
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    staff_token = issuer.mint(
        subject=STAFF_SUBJECT,
        scopes=[Scope.USERS_READ, Scope.ORDERS_READ_ALL],
        audience=audience,
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    return [
        Scenario(
            name=REFERENCE,
            description="GET /healthz, the same server's plain-JSON endpoint",
            request=Request(method="GET", path="/healthz"),
            check=_check_healthz,
            expected_statements=0,
        ),
        Scenario(
            name="Q1",
            description=f"{Q1} as a customer",
            request=_graphql(Q1, user_token),
            check=_check_me,
            expected_statements=1,
        ),
        Scenario(
            name="Q2",
            description="50 users x 10 orders x lines as staff (orders:read:all)",
            request=_graphql(Q2, staff_token),
            check=_check_users,
            expected_statements=3,
        ),
    ]


async def database_statements(client: httpx.AsyncClient) -> float:
    """The server's running count of SQL statements, read from its Prometheus endpoint."""
    response = await client.get("/metrics")
    response.raise_for_status()
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if (
                sample.name == "manifold_datasource_requests_total"
                and sample.labels.get("source") == "database"
            ):
                total += sample.value
    return total
