"""httpx's client over aiohttp: requests go out as httpx builds them, and failures come back
as the httpx errors the upstream's retry rule reads (nothing sent, or maybe sent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from datasources.http_transport import AiohttpTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A raw HTTP/1.1 server on loopback that records what it received."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        self.bodies.append(await reader.readexactly(length) if length else b"")
        return head


@asynccontextmanager
async def serving(handler: Callable[[Server], Handler]) -> AsyncIterator[Server]:
    server = Server(lambda reader, writer: asyncio.sleep(0))
    server.handler = handler(server)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()


def answering(body: bytes = b'{"ok":true}') -> Callable[[Server], Handler]:
    def handler(server: Server) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                await server.read_request(reader)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Seen: yes\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()

        return handle

    return handler


def silent(server: Server) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await asyncio.sleep(30)

    return handle


def cut_short(server: Server) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
        await writer.drain()

    return handle


def client(
    port: int,
    *,
    max_connections: int = 10,
    keepalive: int = 5,
    timeout: httpx.Timeout | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        transport=AiohttpTransport(
            tls=None,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=keepalive
            ),
        ),
        timeout=timeout or httpx.Timeout(2.0),
    )


async def test_a_get_reads_the_status_headers_and_body() -> None:
    async with serving(answering()) as server, client(server.port) as http:
        response = await http.get("/items")
    assert response.status_code == 200
    assert response.headers["x-seen"] == "yes"
    assert response.json() == {"ok": True}


async def test_the_query_string_goes_out_as_httpx_encoded_it() -> None:
    async with serving(answering()) as server, client(server.port) as http:
        response = await http.get("/content", params={"ids": "1,2", "q": "a b/é"})
    request_line = server.heads[0].split(b"\r\n")[0].decode()
    assert request_line == f"GET {response.request.url.raw_path.decode()} HTTP/1.1"


async def test_a_post_sends_its_body_and_headers() -> None:
    async with serving(answering()) as server, client(server.port) as http:
        await http.post("/payments", json={"amount": "9.99"}, headers={"Idempotency-Key": "k1"})
    assert server.bodies[0] == b'{"amount":"9.99"}'
    assert b"idempotency-key: k1" in server.heads[0].lower()


async def test_sequential_requests_reuse_one_connection() -> None:
    async with serving(answering()) as server, client(server.port) as http:
        for _ in range(3):
            await http.get("/")
    assert server.connections == 1


async def test_no_keepalive_opens_a_connection_per_request() -> None:
    async with serving(answering()) as server, client(server.port, keepalive=0) as http:
        for _ in range(2):
            await http.get("/")
    assert server.connections == 2


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with serving(answering()) as server:
        port = server.port
    async with client(port) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")


async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async with serving(silent) as server, client(server.port, timeout=httpx.Timeout(0.2)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/")


async def test_waiting_for_a_full_pool_is_a_connect_timeout() -> None:
    timeout = httpx.Timeout(5.0, pool=0.2, connect=0.1)
    async with (
        serving(silent) as server,
        client(server.port, max_connections=1, timeout=timeout) as http,
    ):
        first = asyncio.create_task(http.get("/"))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.ConnectTimeout):
            await http.get("/")
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_a_body_cut_short_is_a_protocol_error() -> None:
    async with serving(cut_short) as server, client(server.port) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_closing_the_client_closes_its_connections() -> None:
    transport = AiohttpTransport(tls=None, limits=httpx.Limits())
    async with serving(answering()) as server:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", transport=transport
        ) as http:
            await http.get("/")
        assert transport._session is None
