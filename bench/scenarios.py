"""What is measured: the plain-JSON reference and the GraphQL queries compared with it.

Each scenario states how many SQL statements and upstream REST calls one request should cost.
The dataloaders promise a constant number per query whatever the size of its lists, and the
content cache answers repeated content ids without a call, so a different count is a
regression the report points out, not noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from auth.dev_issuer import DevIssuer
from bench.load import Check, Request
from contract.scopes import Scope
from demo.seed import FIRST_USER_SUBJECT

REFERENCE = "plain-json"
TOKEN_TTL_SECONDS = 3600
STAFF_SUBJECT = "bench-staff"
#: The REST upstreams whose calls per request are reported (``source`` label of the counter).
UPSTREAMS = ("content", "recommendations")
DATABASE = "database"

Q1 = "{ me { id name } }"
Q2 = (
    "{ users(first: 50) { edges { node { orders(first: 10) { edges { node {"
    " lines { quantity unitPrice { amount } } } } } } } } }"
)
Q3 = (
    "{ me { orders(first: 10) { edges { node { lines { quantity content { title price { amount }"
    " author { name } } } } } } recommendations(first: 5) { score content { title } } } }"
)

#: The GraphQL scenarios by name: the query, and who asks it (subject, scopes).
QUERIES: dict[str, tuple[str, str, tuple[Scope, ...]]] = {
    "Q1": (Q1, FIRST_USER_SUBJECT, (Scope.USERS_READ, Scope.ORDERS_READ)),
    "Q2": (Q2, STAFF_SUBJECT, (Scope.USERS_READ, Scope.ORDERS_READ_ALL)),
    "Q3": (
        Q3,
        FIRST_USER_SUBJECT,
        (Scope.USERS_READ, Scope.ORDERS_READ, Scope.RECOMMENDATIONS_READ),
    ),
}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    request: Request
    check: Check
    expected_statements: float
    #: Upstream calls per request by upstream (see ``UPSTREAMS``); a missing one means 0.
    expected_upstream_calls: Mapping[str, float] = field(default_factory=dict)


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


def _check_cross_domain(response: httpx.Response) -> str | None:
    # A failed upstream nulls its fields and adds an error, which _graphql_data already counts;
    # empty lists would mean the seed and the services disagree, which would flatter the numbers.
    def accept(data: Any) -> bool:
        me = data and data.get("me")
        return bool(me and me["orders"]["edges"] and me["recommendations"])

    return _graphql_data(response, accept)


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
    cross_domain_token = issuer.mint(
        subject=FIRST_USER_SUBJECT,
        scopes=[Scope.USERS_READ, Scope.ORDERS_READ, Scope.RECOMMENDATIONS_READ],
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
        Scenario(
            name="Q3",
            description="a customer's 10 orders x lines x content (REST) x author (SQL)"
            " + 5 recommendations (REST) x content",
            request=_graphql(Q3, cross_domain_token),
            check=_check_cross_domain,
            # me, orders, lines, authors: one statement each, whatever the number of lines.
            expected_statements=4,
            # Content comes from the gateway's cache once the warm-up has filled it (the
            # service allows max-age=60); recommendations are not cached: one batched call.
            expected_upstream_calls={"content": 0, "recommendations": 1},
        ),
    ]


async def datasource_calls(client: httpx.AsyncClient) -> dict[str, float]:
    """The server's running count of backend calls by ``source`` (``database``: SQL statements).

    Read from ``manifold_datasource_requests_total`` on its Prometheus endpoint, so upstream
    calls made by retries count too: a retry is a call the upstream had to serve.
    """
    response = await client.get("/metrics")
    response.raise_for_status()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "manifold_datasource_requests_total":
                source = sample.labels.get("source", "")
                totals[source] = totals.get(source, 0.0) + sample.value
    return totals
