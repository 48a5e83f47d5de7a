"""Fixtures: a migrated PostgreSQL database per session, a rolled-back transaction per test,
a real Redis, a local identity provider and the demo REST services on loopback, and gateways
driven over HTTP.

Tests that need PostgreSQL or Redis are marked ``postgres`` / ``redis`` from the fixtures they
use, so ``pytest -m "not postgres and not redis"`` selects the fast tier that needs neither.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette

from datasources.db import create_engine
from demo.catalog import Catalog, build_catalog
from gateway.app import create_app
from gateway.settings import Settings
from tests.databases import scratch_postgres
from tests.helpers import CLIENT_ADDRESS, Gateway
from tests.idp import LocalIdentityProvider, running_identity_provider
from tests.services import delete_keys, require_or_skip
from tests.transactional import TransactionalDatabase
from tests.upstreams import PaymentsService, UpstreamService, running_upstreams

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

#: A test using one of these needs that server; it is marked so the fast tier can leave it out.
_SERVICE_FIXTURES = {"postgres_url": pytest.mark.postgres, "redis_url": pytest.mark.redis}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _SERVICE_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[LocalIdentityProvider]:
    with running_identity_provider() as provider:
        yield provider


Upstreams = tuple[UpstreamService, UpstreamService, PaymentsService]

#: What the test gateways verify payment webhooks with.
WEBHOOK_SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture(scope="session")
def upstream_services() -> Iterator[Upstreams]:
    """The demo content, recommendations and payment services, on loopback ports."""
    with running_upstreams() as services:
        yield services


@pytest.fixture
def content_service(upstream_services: Upstreams) -> Iterator[UpstreamService]:
    """The content service, healthy; faults a test sets end with it."""
    service = upstream_services[0]
    yield service
    service.clear_faults()


@pytest.fixture
def recommendations_service(upstream_services: Upstreams) -> Iterator[UpstreamService]:
    service = upstream_services[1]
    yield service
    service.clear_faults()


@pytest.fixture
def payments_service(upstream_services: Upstreams) -> Iterator[PaymentsService]:
    """The payment provider, healthy and delivering nowhere; what a test changes ends with it."""
    service = upstream_services[2]
    yield service
    service.clear_faults()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A freshly created and migrated database, dropped when the session ends."""
    async with scratch_postgres(migrated=True, prefix="manifold_test") as url:
        yield url


@pytest.fixture(scope="session")
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's connection; everything it and the app write is rolled back afterwards."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture(scope="session")
async def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        require_or_skip(f"Redis at {REDIS_URL} is unavailable: {error}")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A prefix of the test's own; its keys (budgets live up to two windows) are deleted after
    the test rather than left behind in a Redis others share (only ours, never FLUSHDB)."""
    prefix = f"manifold-test:{uuid.uuid4().hex[:8]}:"
    yield prefix
    await delete_keys(redis_url, prefix)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """Ground truth for content: the same deterministic catalog the content service serves."""
    return build_catalog()


@pytest.fixture
def settings(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    redis_prefix: str,
    identity_provider: LocalIdentityProvider,
    content_service: UpstreamService,
    recommendations_service: UpstreamService,
    payments_service: PaymentsService,
) -> Settings:
    return Settings(
        env="dev",
        data_dir=tmp_path,
        database_url=postgres_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        oauth_issuer=identity_provider.issuer,
        oauth_audience=identity_provider.audience,
        oauth_jwks_url=identity_provider.jwks_url,
        oauth_jwks_cooldown_seconds=0.5,
        content_url=content_service.base_url,
        recommendations_url=recommendations_service.base_url,
        payments_url=payments_service.base_url,
        payments_webhook_secret=WEBHOOK_SECRET,
        # Published explicitly by the tests of publishing: a background drain would add its
        # statements to the counts of whatever request is being measured.
        outbox_publisher=False,
    )


@pytest.fixture
async def database(connection: AsyncConnection) -> AsyncIterator[TransactionalDatabase]:
    """One database for every gateway of a test, so they share its lock and its rows."""
    database = TransactionalDatabase(connection)
    yield database
    await database.wait_idle()


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(
    settings: Settings,
    database: TransactionalDatabase,
    identity_provider: LocalIdentityProvider,
) -> AsyncIterator[GatewayFactory]:
    """``await make_gateway(setting=value, …)``: a running gateway with those settings, on the
    test's database and Redis prefix; several behave like replicas sharing both. Overrides are
    validated as the environment's values would be, and every gateway stops with the test.
    ``span_processor=`` (not a setting) collects the gateway's spans when tracing is on."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Gateway:
            span_processor = overrides.pop("span_processor", None)
            configured = Settings.model_validate({**settings.model_dump(), **overrides})
            application = create_app(configured, database=database, span_processor=span_processor)
            await stack.enter_async_context(application.router.lifespan_context(application))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application, client=CLIENT_ADDRESS),
                    base_url="http://gateway.test",
                )
            )
            return Gateway(app=application, http=http, identity_provider=identity_provider)

        yield start


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    """A gateway with the test settings."""
    return await make_gateway()


@pytest.fixture
def app(gateway: Gateway) -> Starlette:
    return gateway.app


@pytest.fixture
def client(gateway: Gateway) -> httpx.AsyncClient:
    return gateway.http


@pytest.fixture
def process_settings(settings: Settings) -> dict[str, object]:
    """The test settings as a gateway process reads them (``tests/processes.py``): the
    session's database (committed rows, not the test's transaction) and the test's Redis
    prefix. Processes only read from it."""
    names = (
        "env",
        "data_dir",
        "database_url",
        "redis_url",
        "redis_prefix",
        "oauth_issuer",
        "oauth_audience",
        "oauth_jwks_url",
        "content_url",
        "recommendations_url",
    )
    values: dict[str, object] = {name: getattr(settings, name) for name in names}
    values["log_format"] = "json"
    return values
