"""Fixtures for partner access: gateways built on demand over one rolled-back connection, keys
issued straight through the service, and a local RFC 7662 introspection endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.api_keys import ApiKeys
from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import GraphQLClient
from tests.idp import LocalIdentityProvider
from tests.partner.introspection_server import IntrospectionServer, running_introspection_server
from tests.transactional import TransactionalDatabase

Gateways = Callable[..., AbstractAsyncContextManager[GraphQLClient]]


@pytest.fixture
async def database(connection: AsyncConnection) -> AsyncIterator[TransactionalDatabase]:
    """One database for every gateway of a test, so they share its lock and its rows."""
    database = TransactionalDatabase(connection)
    yield database
    await database.wait_idle()


@pytest.fixture
async def own_redis_keys(redis_url: str, redis_prefix: str) -> AsyncIterator[None]:
    """Budgets live up to two windows: delete this test's keys rather than leave them behind
    in a Redis other people's tests share (only our prefix, never FLUSHDB)."""
    yield
    client = Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=redis_prefix + "*"):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture
def gateways(
    settings: Settings,
    database: TransactionalDatabase,
    identity_provider: LocalIdentityProvider,
    own_redis_keys: None,
) -> Gateways:
    """``async with gateways(**overrides) as gql``: a running gateway on the test's database and
    Redis prefix; several of them behave like replicas sharing PostgreSQL and Redis."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[GraphQLClient]:
        configured = Settings.model_validate({**settings.model_dump(), **overrides})
        application = create_app(configured, database=database)
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application, client=("203.0.113.7", 4711)),
                base_url="http://gateway.test",
            ) as http,
        ):
            yield GraphQLClient(http=http, app=application, identity_provider=identity_provider)

    return start


def key_service(gql: GraphQLClient) -> ApiKeys:
    service: ApiKeys = gql.app.state.resources.api_keys
    return service


async def issue_key(gql: GraphQLClient, *scopes: str, **options: Any) -> str:
    created = await key_service(gql).create(
        name=options.pop("name", "test partner"), scopes=list(scopes), **options
    )
    return created.key


@pytest.fixture(scope="session")
def introspection_server() -> Any:
    with running_introspection_server() as server:
        yield server


@pytest.fixture
def introspection(introspection_server: IntrospectionServer) -> IntrospectionServer:
    introspection_server.reset()
    return introspection_server
