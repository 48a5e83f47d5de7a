"""When PostgreSQL or Redis is down or hung, requests answer in time with contract codes."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette

from datasources.backoff import StoreUnavailableError
from datasources.cache import RedisCache
from gateway.app import create_app
from gateway.settings import Settings
from tests.services import closed_loopback_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are accepted by the kernel and then never answered: a hang."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: Starlette = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
        ) as client,
    ):
        yield client


def database_at(settings: Settings, port: int, **overrides: object) -> Settings:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/unreachable"
    return settings.model_copy(update={"database_url": url, **overrides})


async def test_fields_that_need_a_refusing_database_fail_alone_as_unavailable(
    settings, identity_provider
):
    token = identity_provider.mint(subject="someone", scopes=())

    async with serving(database_at(settings, closed_loopback_port())) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ me { id } contents(first: 1) { edges { node { title } } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    body = response.json()
    assert response.status_code == 200
    assert body["data"]["me"] is None
    assert len(body["data"]["contents"]["edges"]) == 1
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert "127.0.0.1" not in response.text


async def test_an_api_key_that_cannot_be_checked_is_503_not_401(settings):
    async with serving(database_at(settings, closed_loopback_port())) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"X-API-Key": "mfk_abcdefghijkl_" + "A" * 40},
        )

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert response.headers["Retry-After"]


async def test_an_api_key_check_against_a_hung_database_ends_at_the_deadline(settings, silent_port):
    async with serving(database_at(settings, silent_port, request_timeout_seconds=0.5)) as client:
        started = time.monotonic()
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"X-API-Key": "mfk_abcdefghijkm_" + "A" * 40},
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert elapsed < 0.5 + 1.0


async def test_a_hung_redis_is_skipped_after_one_timeout(silent_port):
    cache = RedisCache.from_url(f"redis://127.0.0.1:{silent_port}/0")
    try:
        with pytest.raises(RedisTimeoutError):
            await cache.get("k")
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await cache.get("k")
        assert time.monotonic() - started < 0.05
    finally:
        await cache.close()


async def test_a_hung_redis_costs_a_request_at_most_one_short_timeout(settings, silent_port):
    hung = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{silent_port}/0"})
    async with serving(hung) as client:
        await client.post("/graphql", json={"query": "{ __typename }"})
        started = time.monotonic()
        response = await client.post(
            "/graphql", json={"query": '{ content(id: "Q29udGVudDox") { title } }'}
        )
        elapsed = time.monotonic() - started

    assert response.json()["data"]["content"]["title"]
    assert elapsed < 1.0


async def test_a_cached_key_is_served_while_the_database_is_down(settings, make_gateway):
    working = await make_gateway()
    created = await working.app.state.resources.api_keys.create(name="p", scopes=["content:read"])
    await working.execute("{ __typename }", headers={"X-API-Key": created.key})  # now cached

    async with serving(database_at(settings, closed_loopback_port())) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"X-API-Key": created.key}
        )

    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
