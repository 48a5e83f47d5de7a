"""The overload run's load generator: a client told 503 waits its own ``Retry-After`` while
the others keep going (the property wrk's per-thread scripts lack). Against a raw loopback
server, no gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.polite_load import run

OK = b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"data":{}}'
SHED = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


@pytest.fixture
async def one_slot_server() -> AsyncIterator[tuple[int, list[str]]]:
    """Serves one connection at a time; every other connection is shed. Records each answer."""
    answered: list[str] = []
    busy = asyncio.Lock()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if busy.locked():
            await reader.readuntil(b"\r\n\r\n")
            answered.append("shed")
            writer.write(SHED)
            await writer.drain()
            writer.close()
            return
        async with busy:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    await reader.readexactly(length)
                    answered.append("ok")
                    writer.write(OK)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, answered


async def test_a_shed_client_waits_its_retry_after_while_the_admitted_one_keeps_going(
    one_slot_server,
):
    port, answered = one_slot_server

    result = await run(f"http://127.0.0.1:{port}/graphql", b"{}", "Bearer x", 4, 1.5)

    # Three clients shed once each and waited a second (retrying once more at most), while
    # the admitted one was never paused: it made far more requests than the sheds.
    assert result["shed"] <= 6
    assert result["ok"] > 20 * result["shed"]
    assert answered.count("shed") == result["shed"]
