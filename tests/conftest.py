"""Fixtures: a migrated PostgreSQL database per session, a rolled-back transaction per test,
a real Redis, a local identity provider on loopback, and the app driven over HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from starlette.applications import Starlette

from datasources.db import create_engine
from datasources.migrate import upgrade_database
from gateway.app import create_app
from gateway.settings import Settings
from tests.idp import LocalIdentityProvider, running_identity_provider
from tests.services import require_or_skip
from tests.transactional import TransactionalDatabase
from tests.upstreams import UpstreamService, running_upstreams

DATABASE_URL = os.environ.get(
    "GATEWAY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[LocalIdentityProvider]:
    with running_identity_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def upstream_services() -> Iterator[tuple[UpstreamService, UpstreamService]]:
    """The demo content and recommendations services, on loopback ports, for the session."""
    with running_upstreams() as services:
        yield services


@pytest.fixture
def content_service(
    upstream_services: tuple[UpstreamService, UpstreamService],
) -> Iterator[UpstreamService]:
    """The content service, healthy; faults a test sets end with it."""
    service = upstream_services[0]
    yield service
    service.clear_faults()


@pytest.fixture
def recommendations_service(
    upstream_services: tuple[UpstreamService, UpstreamService],
) -> Iterator[UpstreamService]:
    service = upstream_services[1]
    yield service
    service.clear_faults()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A freshly created and migrated database, dropped when the session ends."""
    admin_url = make_url(DATABASE_URL)
    name = f"manifold_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:
        await admin.dispose()
        require_or_skip(f"PostgreSQL at {admin_url.render_as_string()} is unavailable: {error}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_database(url)
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


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
def redis_prefix() -> str:
    return f"manifold-test:{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def settings(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    redis_prefix: str,
    identity_provider: LocalIdentityProvider,
    content_service: UpstreamService,
    recommendations_service: UpstreamService,
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
    )


@pytest.fixture
async def app(settings: Settings, connection: AsyncConnection) -> AsyncIterator[Starlette]:
    database = TransactionalDatabase(connection)
    application = create_app(settings, database=database)
    async with application.router.lifespan_context(application):
        yield application
    await database.wait_idle()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield client


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


@dataclass
class GraphQLClient:
    """Posts operations the way a frontend would, and counts the SQL each one costs."""

    http: httpx.AsyncClient
    app: Starlette
    identity_provider: LocalIdentityProvider

    def token(self, subject: str, *scopes: str, **claims: Any) -> str:
        return self.identity_provider.mint(subject=subject, scopes=scopes, **claims)

    def statements(self) -> float:
        return float(self.app.state.resources.metrics.datasources.database_statements())

    def calls(self, source: str) -> int:
        """Calls made so far to one backend: ``content``, ``recommendations`` or ``database``."""
        return int(self.app.state.resources.metrics.datasources.calls(source))

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        all_headers = dict(headers or {})
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
        return response, int(self.statements() - before)

    async def costed(self, query: str, **kwargs: Any) -> tuple[GraphQLResponse, Calls]:
        """The response and the calls it made to every backend."""
        sources = ("database", "content", "recommendations")
        before = {source: self.calls(source) for source in sources}
        response = await self.execute(query, **kwargs)
        after = {source: self.calls(source) for source in sources}
        return response, Calls(
            sql=after["database"] - before["database"],
            content=after["content"] - before["content"],
            recommendations=after["recommendations"] - before["recommendations"],
        )


@pytest.fixture
def gql(
    client: httpx.AsyncClient, app: Starlette, identity_provider: LocalIdentityProvider
) -> GraphQLClient:
    return GraphQLClient(http=client, app=app, identity_provider=identity_provider)


GatewayFactory = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
async def gateway_with(
    settings: Settings, connection: AsyncConnection, identity_provider: LocalIdentityProvider
) -> AsyncIterator[GatewayFactory]:
    """``await gateway_with(setting=value, …)``: a client of a gateway with those settings."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> GraphQLClient:
            database = TransactionalDatabase(connection)
            stack.push_async_callback(database.wait_idle)
            application = create_app(settings.model_copy(update=overrides), database=database)
            await stack.enter_async_context(application.router.lifespan_context(application))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
                )
            )
            return GraphQLClient(http=http, app=application, identity_provider=identity_provider)

        yield make
