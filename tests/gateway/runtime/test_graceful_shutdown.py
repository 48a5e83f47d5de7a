"""SIGTERM drains: readiness turns 503 "draining" while the process keeps serving for the
pre-stop delay, in-flight requests finish, keep-alive clients are told to reconnect, and with
two uvicorn workers under load no request is lost. Real processes, real signals."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.runtime.shutdown import Shutdown
from tests.processes import gateway_process

pytestmark = pytest.mark.faults

QUERY = {"query": "{ contents(first: 2) { edges { node { title } } } }"}
HEADERS = {"Content-Type": "application/json"}
DELAY_SECONDS = 2.0


@dataclass
class Tally:
    answered: int = 0
    lost: list[str] = field(default_factory=list)
    told_to_close: int = 0


async def ask(client: httpx.AsyncClient, tally: Tally) -> httpx.Response | None:
    try:
        response = await client.post("/graphql", json=QUERY, headers=HEADERS)
    except httpx.HTTPError as error:
        tally.lost.append(type(error).__name__)
        return None
    if response.status_code != 200 or "errors" in response.json():
        tally.lost.append(f"HTTP {response.status_code}: {response.text[:200]}")
        return response
    tally.answered += 1
    return response


async def keep_asking(base_url: str, tally: Tally, stop: asyncio.Event) -> None:
    """One kept-alive client, as a load balancer's would be: it stops sending to this replica
    once told ``Connection: close`` (the replica is draining)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
        while not stop.is_set():
            response = await ask(client, tally)
            if response is not None and response.headers.get("connection") == "close":
                tally.told_to_close += 1
                return


async def wait_for_answers(tally: Tally, count: int, *, seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if tally.answered >= count:
            return
        await asyncio.sleep(0.05)


async def wait_for_draining(base_url: str, seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            response = await client.get("/readyz")
            if response.status_code == 503:
                body: dict[str, object] = response.json()
                return body
            await asyncio.sleep(0.05)
    raise AssertionError("readiness never said draining")


async def test_sigterm_under_load_with_two_workers_loses_no_request(
    process_settings, content_service, tmp_path
):
    content_service.set_faults(latency_ms=300)
    settings = {
        **process_settings,
        "shutdown_delay_seconds": DELAY_SECONDS,
        "shutdown_grace_seconds": 10,
    }
    with gateway_process(settings, tmp_path / "gateway.log", workers=2) as gateway:
        tally, stop = Tally(), asyncio.Event()
        clients = [
            asyncio.create_task(keep_asking(gateway.base_url, tally, stop)) for _ in range(16)
        ]
        # Under load before the signal: wait for answers (two cold workers on a busy machine
        # may take more than a second to answer the first ones).
        await wait_for_answers(tally, 16, seconds=15)
        before_signal = tally.answered
        signalled = time.monotonic()
        gateway.signal(signal.SIGTERM)

        readiness = await wait_for_draining(gateway.base_url, 1.5)
        # Late arrivals, in flight when the delay ends and the listener closes: they finish.
        await asyncio.sleep(max(0.0, signalled + DELAY_SECONDS - 0.2 - time.monotonic()))
        late = Tally()
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as client:
            await asyncio.gather(*(ask(client, late) for _ in range(8)))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), 15)
        exit_code = await asyncio.to_thread(gateway.wait, 20)
        exited_after = time.monotonic() - signalled

    assert readiness == {**readiness, "status": "draining"}
    assert before_signal >= 16
    assert tally.lost == []
    assert late.lost == []
    assert late.answered == 8
    assert tally.told_to_close == 16  # every kept-alive client was told to move on
    assert exit_code == 0
    assert exited_after < DELAY_SECONDS + 0.5 + 10


async def test_readiness_is_draining_while_the_process_keeps_serving(process_settings, tmp_path):
    settings = {**process_settings, "shutdown_delay_seconds": DELAY_SECONDS}
    with gateway_process(settings, tmp_path / "gateway.log") as gateway:
        gateway.signal(signal.SIGTERM)
        readiness = await wait_for_draining(gateway.base_url, 1.0)
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=5) as client:
            served = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers=HEADERS
            )
        exit_code = await asyncio.to_thread(gateway.wait, DELAY_SECONDS + 10)

    assert readiness["status"] == "draining"
    assert served.status_code == 200
    assert served.headers["connection"] == "close"
    assert exit_code == 0


async def test_a_second_sigterm_skips_the_rest_of_the_delay(process_settings, tmp_path):
    settings = {**process_settings, "shutdown_delay_seconds": 30}
    with gateway_process(settings, tmp_path / "gateway.log") as gateway:
        gateway.signal(signal.SIGTERM)
        await wait_for_draining(gateway.base_url, 1.0)
        started = time.monotonic()
        gateway.signal(signal.SIGTERM)
        await asyncio.to_thread(gateway.wait, 10)

    assert time.monotonic() - started < 5


def test_drain_callbacks_run_once_when_draining_starts():
    shutdown = Shutdown()
    calls: list[str] = []
    shutdown.on_drain(lambda: calls.append("websocket transport"))

    shutdown.begin_draining()
    shutdown.begin_draining()

    assert calls == ["websocket transport"]
    assert shutdown.draining


def test_a_callback_registered_while_draining_runs_at_once():
    shutdown = Shutdown()
    shutdown.begin_draining()
    calls: list[str] = []

    shutdown.on_drain(lambda: calls.append("late"))

    assert calls == ["late"]


def test_an_unregistered_callback_is_not_called():
    shutdown = Shutdown()
    calls: list[str] = []
    unregister = shutdown.on_drain(lambda: calls.append("gone"))

    unregister()
    shutdown.begin_draining()

    assert calls == []
