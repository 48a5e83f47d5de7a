"""A private PostgreSQL that the test freezes (SIGSTOP), stops and restarts under the gateway:
every answer comes by the deadline plus a small margin with the right code, the gateway
recovers by itself, and its shutdown is never held by a frozen server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from datasources.migrate import upgrade_database
from gateway.app import create_app
from gateway.settings import Settings
from tests.private_servers import PrivatePostgres, private_postgres

pytestmark = pytest.mark.faults

DEADLINE = 1.0
MARGIN = 0.6
ME = {"query": "{ me { id } }"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        asyncio.run(upgrade_database(server.url))
        yield server


def on_private_database(settings: Settings, postgres: PrivatePostgres) -> Starlette:
    return create_app(
        settings.model_copy(
            update={
                "database_url": postgres.url,
                "request_timeout_seconds": DEADLINE,
                "readiness_interval_seconds": 0.1,
            }
        )
    )


@pytest.fixture
async def client(postgres, settings) -> AsyncIterator[httpx.AsyncClient]:
    application = on_private_database(settings, postgres)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
        ) as http,
    ):
        yield http
    postgres.thaw()


async def timed(client: httpx.AsyncClient, token: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {token}"})
    return response, time.monotonic() - started


async def unready(client: httpx.AsyncClient) -> httpx.Response:
    """Readiness answers from background rounds: poll until they have seen the outage."""
    for _ in range(50):
        response = await client.get("/readyz")
        if response.status_code == 503:
            return response
        await asyncio.sleep(0.1)
    return response


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


async def test_a_frozen_database_answers_every_request_by_the_deadline_then_recovers(
    postgres, client, identity_provider
):
    token = identity_provider.mint(subject="fault-subject", scopes=())
    healthy, _ = await timed(client, token)
    postgres.freeze()

    answers = await asyncio.gather(*(timed(client, token) for _ in range(12)))
    postgres.thaw()
    recovered, _ = await timed(client, token)

    assert healthy.json()["data"] == {"me": None}
    assert "errors" not in healthy.json()
    for response, elapsed in answers:
        assert response.status_code == 200
        assert codes(response) == ["UPSTREAM_TIMEOUT"]
        assert response.json()["data"] == {"me": None}
        assert elapsed < DEADLINE + MARGIN
    assert "errors" not in recovered.json()


async def test_a_stopped_database_is_unavailable_and_a_restarted_one_serves_again(
    postgres, client, identity_provider
):
    token = identity_provider.mint(subject="fault-subject", scopes=())
    postgres.stop()
    try:
        down, elapsed = await timed(client, token)
        readiness = await unready(client)
    finally:
        postgres.start()
    back, _ = await timed(client, token)

    assert codes(down) == ["UPSTREAM_UNAVAILABLE"]
    assert elapsed < DEADLINE + MARGIN
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["database"] == "unavailable"
    assert "errors" not in back.json()


async def test_shutdown_is_not_held_by_a_frozen_database(postgres, settings, identity_provider):
    application = on_private_database(settings, postgres)
    token = identity_provider.mint(subject="fault-subject", scopes=())
    lifespan = application.router.lifespan_context(application)
    await lifespan.__aenter__()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
    ) as http:
        await timed(http, token)  # the pool now holds idle connections to the server
    postgres.freeze()
    try:
        started = time.monotonic()
        await lifespan.__aexit__(None, None, None)
        closing = time.monotonic() - started
    finally:
        postgres.thaw()

    assert closing < 3.0


class StartingUpServer:
    """Answers every connection as PostgreSQL does while it starts: FATAL 57P03."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            connection, _ = await loop.sock_accept(self.listener)
            await loop.sock_recv(connection, 1024)  # the startup message
            fields = b"SFATAL\x00VFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00"
            message = b"E" + (len(fields) + 4).to_bytes(4, "big") + fields
            await loop.sock_sendall(connection, message)
            connection.close()


async def test_a_starting_database_is_upstream_unavailable_not_a_masked_crash(
    settings, identity_provider, caplog
):
    starting = StartingUpServer()
    serving = asyncio.create_task(starting.serve())
    configured = settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{starting.port}/x"}
    )
    application = create_app(configured)
    token = identity_provider.mint(subject="fault-subject", scopes=())
    try:
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
            ) as http,
        ):
            response, _ = await timed(http, token)
    finally:
        serving.cancel()
        starting.listener.close()

    assert codes(response) == ["UPSTREAM_UNAVAILABLE"]
    assert "Traceback" not in caplog.text
