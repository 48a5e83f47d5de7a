"""A closed-loop load generator: N workers, each sending its next request when one returns.

Closed loop (rather than a fixed arrival rate) measures the throughput the server sustains at a
given concurrency, which is what the ratio to ``/healthz`` compares. Every run is bounded twice,
by a deadline and by a request count, and the client only ever talks to 127.0.0.1.

Each worker owns a client with a single kept-alive connection. One shared client with a pool of
N connections would be simpler, but httpcore's pool serializes its bookkeeping under a lock and,
measured on two cores, halves the client's throughput at 32 connections, so a cheap endpoint
such as ``/healthz`` would be measuring the pool instead of the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx

#: Whether a response is a success; returns a short reason when it is not.
Check = Callable[[httpx.Response], str | None]

REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: object = None


@dataclass(slots=True)
class LoadResult:
    requests: int = 0
    errors: int = 0
    elapsed_seconds: float = 0.0
    #: CPU the benchmark process itself used meanwhile: near one core means client-bound.
    client_cpu_seconds: float = 0.0
    latencies_seconds: list[float] = field(default_factory=list)
    #: The first few distinct failure reasons, so an error count can be explained.
    error_samples: list[str] = field(default_factory=list)

    def record_error(self, reason: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5 and reason not in self.error_samples:
            self.error_samples.append(reason)


@dataclass(frozen=True, slots=True)
class LoadPhase:
    """How long and how hard one phase (a warm-up or a measurement) pushes."""

    duration_seconds: float
    max_requests: int


@asynccontextmanager
async def open_clients(base_url: str, concurrency: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per worker, each with one connection and no proxy taken from the env."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("the load generator only talks to 127.0.0.1")
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    trust_env=False,
                )
            )
            for _ in range(concurrency)
        ]
        yield clients


async def _send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    if request.json is None:
        return await client.request(request.method, request.path, headers=request.headers)
    return await client.request(
        request.method, request.path, headers=request.headers, json=request.json
    )


async def run_load(
    clients: list[httpx.AsyncClient], request: Request, check: Check, phase: LoadPhase
) -> LoadResult:
    """Send ``request`` from one worker per client until the deadline or the request cap.

    Every request that was started is awaited before returning, so server-side counters read
    afterwards include all of them and none of a later phase; the elapsed time includes that
    drain, so requests per second are requests over the time it took to serve them.
    """
    result = LoadResult()
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + phase.duration_seconds
    issued = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < phase.max_requests and time.perf_counter() < deadline:
            issued += 1
            sent = time.perf_counter()
            try:
                response = await _send(client, request)
            except httpx.HTTPError as error:
                reason: str | None = f"{type(error).__name__}: {error}"
            else:
                reason = check(response)
            result.latencies_seconds.append(time.perf_counter() - sent)
            result.requests += 1
            if reason is not None:
                result.record_error(reason)

    await asyncio.gather(*(worker(client) for client in clients))
    result.elapsed_seconds = time.perf_counter() - started
    result.client_cpu_seconds = time.process_time() - cpu_started
    return result
