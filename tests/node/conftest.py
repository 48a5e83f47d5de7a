"""Fixtures for the Node harness: real JavaScript clients (``tests/node/scripts/*.mjs``) run by
``node`` against a real gateway process, which serves its own PostgreSQL database (migrated and
seeded, dropped afterwards), a Redis prefix of its own (deleted afterwards), the test identity
provider and the demo upstreams.

Without ``node`` or the npm packages (``npm ci --prefix tests/node``) these tests skip with that
reason, or fail when ``GATEWAY_TEST_REQUIRE_SERVICES`` is set, as in CI.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contract.scopes import READ_SCOPES, Scope
from datasources.db import create_engine
from datasources.migrate import upgrade_database
from datasources.tables import OrderStatus, orders, users
from demo.seed import FIRST_USER_SUBJECT, seed_database
from tests.conftest import Upstreams
from tests.idp import LocalIdentityProvider
from tests.processes import RunningProcess, clean_environment, running_gateway
from tests.services import delete_keys, require_or_skip, scratch_database

HARNESS = Path(__file__).resolve().parent
SCRIPTS = HARNESS / "scripts"
NODE_SECONDS = 120


@dataclass(frozen=True)
class NodeHarness:
    node: str

    def run(self, script: str, **environment: str) -> dict[str, Any]:
        """Run ``scripts/<script>`` with ``MANIFOLD_*`` inputs; its one-line JSON report."""
        completed = subprocess.run(
            [self.node, str(SCRIPTS / script)],
            cwd=HARNESS,
            env=clean_environment(**environment),
            capture_output=True,
            text=True,
            timeout=NODE_SECONDS,
            check=False,
        )
        lines = completed.stdout.strip().splitlines()
        if not lines:
            raise AssertionError(f"{script} printed no report; stderr:\n{completed.stderr}")
        report: dict[str, Any] = json.loads(lines[-1])
        report["exit_code"] = completed.returncode
        report["stderr"] = completed.stderr[-2000:]
        return report


@pytest.fixture(scope="session")
def node_harness() -> NodeHarness:
    node = shutil.which("node")
    if node is None:
        require_or_skip("node is not installed: the Node client tests need Node 20")
    if not (HARNESS / "node_modules" / ".package-lock.json").exists():
        require_or_skip("the Node harness is not installed: run `npm ci --prefix tests/node`")
    return NodeHarness(node)


@pytest.fixture(scope="session")
async def seeded_database() -> AsyncIterator[str]:
    """A database of its own, committed to by a separate process, so never the tests' shared
    rolled-back one."""
    async with scratch_database("manifold_node") as url:
        await upgrade_database(url)
        engine = create_engine(url)
        try:
            # 10 orders each: some 14 are left PENDING, for the tests that cancel one each.
            await seed_database(engine, users=20, orders_per_user=10)
        finally:
            await engine.dispose()
        yield url


@pytest.fixture(scope="session")
async def first_user_name(seeded_database: str) -> str:
    engine = create_engine(seeded_database)
    try:
        async with engine.connect() as connection:
            name: str = (
                await connection.execute(
                    select(users.c.name).where(users.c.subject == FIRST_USER_SUBJECT)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return name


@dataclass(frozen=True)
class PendingOrder:
    #: The order's global id, as clients name it.
    id: str
    #: Its customer's subject, for a token of theirs.
    owner: str


@pytest.fixture(scope="session")
async def pending_orders(seeded_database: str) -> list[PendingOrder]:
    """The seeded orders still PENDING (paid outside the provider, so cancelled locally)."""
    engine = create_engine(seeded_database)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(orders.c.id, users.c.subject)
                    .join(users, users.c.id == orders.c.user_id)
                    .where(orders.c.status == OrderStatus.PENDING)
                    .order_by(orders.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    return [
        PendingOrder(base64.b64encode(f"Order:{row.id}".encode()).decode(), row.subject)
        for row in rows
    ]


@pytest.fixture
def pending_order(pending_orders: list[PendingOrder]) -> PendingOrder:
    """A pending order no other test has changed: a test that changes one takes its own."""
    if not pending_orders:
        raise AssertionError("no pending order left: seed more orders per user")
    return pending_orders.pop(0)


@pytest.fixture
def order_owner_token(identity_provider: LocalIdentityProvider, pending_order: PendingOrder) -> str:
    """A token of ``pending_order``'s customer, who may read and cancel it."""
    return identity_provider.mint(
        subject=pending_order.owner, scopes=[str(Scope.ORDERS_READ), str(Scope.ORDERS_WRITE)]
    )


@pytest.fixture(scope="session")
async def process_redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """The gateway processes' Redis prefix, and every key under it deleted afterwards."""
    prefix = f"manifold-test:node-{uuid.uuid4().hex[:8]}:"
    yield prefix
    await delete_keys(redis_url, prefix)


@pytest.fixture(scope="session")
def gateway_environment(
    tmp_path_factory: pytest.TempPathFactory,
    seeded_database: str,
    redis_url: str,
    process_redis_prefix: str,
    identity_provider: LocalIdentityProvider,
    upstream_services: Upstreams,
) -> dict[str, str]:
    content, recommendations, payments = upstream_services
    return clean_environment(
        GATEWAY_ENV="dev",
        GATEWAY_DATA_DIR=str(tmp_path_factory.mktemp("gateway-process")),
        GATEWAY_DATABASE_URL=seeded_database,
        # A few clients at a time: a small pool leaves the shared server's connections to others.
        GATEWAY_DATABASE_POOL_SIZE="2",
        GATEWAY_DATABASE_MAX_OVERFLOW="2",
        GATEWAY_REDIS_URL=redis_url,
        GATEWAY_REDIS_PREFIX=process_redis_prefix,
        GATEWAY_OAUTH_ISSUER=identity_provider.issuer,
        GATEWAY_OAUTH_AUDIENCE=identity_provider.audience,
        GATEWAY_OAUTH_JWKS_URL=identity_provider.jwks_url,
        GATEWAY_OAUTH_JWKS_COOLDOWN_SECONDS="0.5",
        GATEWAY_CONTENT_URL=content.base_url,
        GATEWAY_RECOMMENDATIONS_URL=recommendations.base_url,
        GATEWAY_PAYMENTS_URL=payments.base_url,
    )


@pytest.fixture(scope="session")
def gateway_process(
    gateway_environment: dict[str, str], node_harness: NodeHarness
) -> Iterator[RunningProcess]:
    """One gateway process with the default settings, for every client test."""
    with running_gateway(gateway_environment, cwd=HARNESS) as process:
        yield process


@pytest.fixture
def user_token(identity_provider: LocalIdentityProvider) -> str:
    """A token of the seeded first user, with every read scope, as the demo hands out."""
    return identity_provider.mint(subject=FIRST_USER_SUBJECT, scopes=[str(s) for s in READ_SCOPES])


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, which playwright-core drives (it downloads no browser of its own)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        require_or_skip("Chromium is not installed: `apt-get install -y chromium`")
    return path


@pytest.fixture(scope="session")
def demo_gateway_process(
    gateway_environment: dict[str, str],
    node_harness: NodeHarness,
    identity_provider: LocalIdentityProvider,
) -> Iterator[tuple[RunningProcess, str]]:
    """A gateway whose GraphiQL starts signed in, as ``gateway demo`` runs it; and its token."""
    token = identity_provider.mint(
        subject=FIRST_USER_SUBJECT,
        scopes=[str(s) for s in READ_SCOPES],
        exp=int(time.time()) + 3600,  # outlives the session, as the demo's 12 h token does
    )
    with running_gateway(
        {**gateway_environment, "GATEWAY_GRAPHIQL_TOKEN": token}, cwd=HARNESS
    ) as process:
        yield process, token


@pytest.fixture(scope="session")
def federated_gateway_process(
    gateway_environment: dict[str, str], node_harness: NodeHarness
) -> Iterator[RunningProcess]:
    """A gateway serving as a federation subgraph (GATEWAY_FEDERATION=true)."""
    with running_gateway(
        {**gateway_environment, "GATEWAY_FEDERATION": "true"}, cwd=HARNESS
    ) as process:
        yield process


@pytest.fixture(scope="session")
async def user_names(seeded_database: str) -> dict[str, str]:
    """The seeded users' names by global id, as a supergraph query shows them."""
    engine = create_engine(seeded_database)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(users.c.id, users.c.name))).all()
    finally:
        await engine.dispose()
    return {base64.b64encode(f"User:{row.id}".encode()).decode(): row.name for row in rows}
