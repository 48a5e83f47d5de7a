"""The compiled execution path answers byte for byte as the interpreted one.

Two gateways on the same data, one compiling plans and one on graphql-core's executor, answer
the same documents for the same callers: every GraphQL document of this test suite, then a
seeded corpus of random valid documents over the real schema (``corpus.py``), some while the
content or recommendations service fails. ``data``, ``errors`` and ``extensions`` must be
identical bytes, request ids aside.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from datasources.migrate import upgrade_database
from datasources.tables import users
from gateway.app import create_app
from gateway.settings import Settings
from schema import build_schema
from tests.factories import MadeUser, make_order
from tests.gateway.operations.corpus import Known, generate
from tests.helpers import CLIENT_ADDRESS, Gateway, issue_key, key_header

TESTS = Path(__file__).resolve().parents[2]
CORPUS_SIZE = 1000

#: Both gateways: no budgets (their counters would differ by one charge), no content cache
#: (each must meet the upstream as it is), one attempt per upstream call, no breaker opening.
COMMON = {
    "rate_limit_enabled": False,
    "content_cache_ttl_seconds": 0,
    "content_cache_negative_ttl_seconds": 0,
    "upstream_retry_attempts": 1,
    "upstream_breaker_failures": 1_000_000,
    "max_depth": 30,
    "max_aliases": 100,
    "max_root_fields": 100,
    "max_directives": 200,
}


def without_request_ids(body: Any) -> bytes:
    for error in body.get("errors") or ():
        (error.get("extensions") or {}).pop("requestId", None)
    return orjson.dumps(body)


def suite_documents() -> list[str]:
    """Every string literal of the test suite that is a valid query document."""
    schema = build_schema()._schema
    found: dict[str, None] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if "{" not in text or len(text) > 20_000:
                continue
            try:
                document = parse(text)
            except Exception:
                continue
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
                continue
            if not validate(schema, document):
                found[text] = None
    return list(found)


async def seed(connection: Any) -> Known:
    """Users 1..200 (the content service's authors), and orders for a few of them."""
    await connection.execute(
        insert(users),
        [
            {"id": n, "subject": f"diff-user-{n}", "name": f"User {n}", "email": f"u{n}@diff.test"}
            for n in range(1, 201)
        ],
    )
    order_ids = []
    for n in (1, 2, 3):
        owner = MadeUser(id=n, subject=f"diff-user-{n}", name=f"User {n}", email="")
        for lines in ([(1, 2, "9.99"), (2, 1, "15.00")], [(3, 1, "5.00"), (999_999, 1, "1.00")]):
            order = await make_order(
                connection, owner, lines=[(c, q, Decimal(p)) for c, q, p in lines]
            )
            order_ids.append(order.id)
    return Known(
        user_ids=[1, 2, 3, 4, 150],
        order_ids=order_ids,
        content_ids=[1, 2, 3, 210, 330, 999_999],
        slugs=[],
        tags=["audio", "rust", "travel"],
    )


def _upstream_codes(response: httpx.Response) -> set[str]:
    errors = response.json().get("errors") or []
    return {
        code
        for error in errors
        if isinstance(code := error.get("extensions", {}).get("code"), str)
        and code.startswith("UPSTREAM_")
    }


def _upstream_failed_on_one_side(compiled: httpx.Response, interpreted: httpx.Response) -> bool:
    return _upstream_codes(compiled) != _upstream_codes(interpreted)


class Pair:
    def __init__(self, compiled: Gateway, interpreted: Gateway, callers: list[dict[str, str]]):
        self.compiled = compiled
        self.interpreted = interpreted
        self.callers = callers
        self.compared = 0

    async def compare(self, query: str, variables: dict[str, Any], caller: int) -> None:
        headers = self.callers[caller % len(self.callers)]
        body = {"query": query, "variables": variables}
        compiled, _ = await self.compiled.post(body, headers=headers)
        interpreted, _ = await self.interpreted.post(body, headers=headers)
        if _upstream_failed_on_one_side(compiled, interpreted):
            # The real content service timed out for one of the two on a loaded machine: a
            # fact of the service, not of the paths. Both ask again; a difference of the
            # paths is deterministic and shows again.
            compiled, _ = await self.compiled.post(body, headers=headers)
            interpreted, _ = await self.interpreted.post(body, headers=headers)
        assert compiled.status_code == interpreted.status_code, query
        assert without_request_ids(compiled.json()) == without_request_ids(interpreted.json()), (
            f"{query}\nvariables: {variables}\ncaller: {headers}\n"
            f"compiled:    {compiled.text}\ninterpreted: {interpreted.text}"
        )
        self.compared += 1


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database of its own, committed: a resolver cancelled mid-query by graphql-core (it
    cancels a failed field's siblings) must cost one pooled connection, as in production, not
    poison the one rolled-back connection other tests share."""
    admin_url = make_url(postgres_url)
    name = f"manifold_differential_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_database(url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="module")
async def known(database_url: str) -> Known:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await seed(connection)
    finally:
        await engine.dispose()


@pytest.fixture
async def pair(
    settings, database_url, known, identity_provider
) -> AsyncIterator[tuple[Pair, Known]]:
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Gateway:
            configured = Settings.model_validate(
                {**settings.model_dump(), "database_url": database_url, **COMMON, **overrides}
            )
            application = create_app(configured)
            await stack.enter_async_context(application.router.lifespan_context(application))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application, client=CLIENT_ADDRESS),
                    base_url="http://gateway.test",
                )
            )
            return Gateway(app=application, http=http, identity_provider=identity_provider)

        compiled = await start(compiled_execution=True)
        interpreted = await start(compiled_execution=False)
        partner = await issue_key(compiled, "content:read", "users:read", "orders:read:all")
        token = compiled.token
        callers = [
            {},
            {"Authorization": f"Bearer {token('diff-user-1', 'users:read', 'orders:read')}"},
            {
                "Authorization": "Bearer "
                + token(
                    "diff-user-2",
                    "users:read",
                    "users:email",
                    "orders:read",
                    "content:read",
                    "recommendations:read",
                )
            },
            {
                "Authorization": "Bearer "
                + token("staff", "users:read", "orders:read:all", "recommendations:read")
            },
            {"Authorization": f"Bearer {token('admin', 'admin:api-keys', 'content:read')}"},
            key_header(partner),
        ]
        yield Pair(compiled, interpreted, callers), known


def executions(gateway: Gateway, path: str) -> float:
    return float(
        sum(
            sample.value
            for metric in gateway.resources.metrics.executions.collect()
            for sample in metric.samples
            if sample.name.endswith("_total") and sample.labels["path"] == path
        )
    )


async def test_every_document_of_the_suite_answers_alike_on_both_paths(pair):
    comparison, _ = pair
    documents = suite_documents()
    assert len(documents) > 50

    for index, query in enumerate(documents):
        for caller in range(len(comparison.callers)):
            await comparison.compare(query, {}, caller + index)

    assert executions(comparison.compiled, "compiled") > len(documents)
    assert executions(comparison.interpreted, "compiled") == 0


async def test_a_thousand_random_documents_answer_alike_on_both_paths(
    pair, content_service, recommendations_service
):
    comparison, known = pair
    corpus = generate(build_schema()._schema, known, count=CORPUS_SIZE, seed=20261201)

    for index, (query, variables) in enumerate(corpus):
        failing = index % 10
        if failing == 3:
            content_service.set_faults(error_rate=1.0, error_status=503)
        elif failing == 7:
            recommendations_service.set_faults(error_rate=1.0, error_status=503)
        try:
            await comparison.compare(query, variables, index)
        finally:
            if failing in (3, 7):
                content_service.clear_faults()
                recommendations_service.clear_faults()

    assert comparison.compared == CORPUS_SIZE


def test_the_corpus_is_varied():
    """What the random documents cover, so the comparison is not of trivial queries."""
    known = Known([1], [1], [1], [], ["audio"])
    corpus = generate(build_schema()._schema, known, count=300, seed=20261201)
    text = " ".join(query for query, _ in corpus)

    for feature in ("fragment F", "... on ", "@include", "@skip", "__typename", "a1: "):
        assert feature in text, feature
    assert sum(1 for _, variables in corpus if variables) > 50
    # A small document may come up twice by chance; nearly all must differ.
    assert len({query for query, _ in corpus}) >= 290
