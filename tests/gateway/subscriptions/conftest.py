"""Subscriptions need a real socket: a test's gateway app (``make_gateway``, on the test's
database and Redis prefix) served by uvicorn in the test's own event loop on a loopback port,
so WebSocket and SSE clients speak to it over TCP as they would to a deployment."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from tests.conftest import GatewayFactory
from tests.helpers import Gateway


@dataclass
class Served:
    gateway: Gateway
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service(self) -> Any:
        return self.gateway.app.state.subscriptions

    async def until_subscriptions(self, count: int, seconds: float = 5.0) -> None:
        """Wait until this process runs ``count`` subscriptions (a client cannot tell when its
        subscribe took effect: graphql-transport-ws acknowledges none)."""
        for _ in range(int(seconds / 0.01)):
            if self.service.fanout.subscribers == count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.service.fanout.subscribers} subscriptions, not {count}")


@asynccontextmanager
async def serving(gateway: Gateway) -> AsyncIterator[Served]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        gateway.app, lifespan="off", log_level="warning", access_log=False, ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield Served(gateway, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        listener.close()


ServeFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(make_gateway: GatewayFactory) -> AsyncIterator[ServeFactory]:
    """``await serve(setting=value, …)``: a gateway with those settings, listening."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Served:
            gateway = await make_gateway(**overrides)
            return await stack.enter_async_context(serving(gateway))

        yield start
