"""httpx's client over aiohttp's connection pool.

httpcore 1.0's pool walks every pooled connection, polling each idle socket, on every request
and on every release (encode/httpcore#1035): with 32 requests in flight one call to a REST
service cost about 1.2 ms of CPU, most of it that bookkeeping, against about 0.3 ms through
aiohttp's connector, which hands out a kept-alive connection in constant time. The upstream
client keeps httpx's client, request and response types, its timeouts and its decoding; only
the bytes go through aiohttp.

Failures become httpx's exception types by where they happened, because the upstream's retry
rule depends on it: ``ConnectError`` and ``ConnectTimeout`` (a full pool included) mean nothing
reached the service; ``ReadTimeout`` and ``ReadError`` mean it may have.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from yarl import URL

_CHUNK_BYTES = 64 * 1024


@contextmanager
def httpx_errors() -> Iterator[None]:
    """aiohttp's failures as the httpx exceptions a native httpx transport would raise."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as error:  # connecting, or waiting for the pool
        raise httpx.ConnectTimeout(str(error) or "connect timeout") from error
    except aiohttp.ServerTimeoutError as error:  # a read went quiet for too long
        raise httpx.ReadTimeout(str(error) or "read timeout") from error
    except aiohttp.ClientConnectorError as error:  # refused, no route, DNS, TLS handshake
        raise httpx.ConnectError(str(error) or "connect error") from error
    except aiohttp.InvalidURL as error:
        raise httpx.UnsupportedProtocol(str(error)) from error
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as error:
        raise httpx.RemoteProtocolError(str(error) or "server disconnected") from error
    except aiohttp.ClientError as error:
        raise httpx.ReadError(str(error) or type(error).__name__) from error


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for chunk in self._response.content.iter_chunked(_CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; aiohttp closes the connection
        # otherwise (a body left unread would corrupt the next exchange on it).
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp connection pool for one upstream service, created on first use (it needs
    the running event loop) and closed with the client."""

    def __init__(self, *, tls: ssl.SSLContext | None, limits: httpx.Limits) -> None:
        self._tls = tls
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        keep_alive = limits.max_keepalive_connections != 0
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            # aiohttp keeps every idle connection (up to ``limit``) for the keep-alive expiry;
            # it has no separate cap on idle ones, so 0 is the one value that changes anything.
            force_close=not keep_alive,
            keepalive_timeout=limits.keepalive_expiry if keep_alive else None,
            # The same trust as httpx's own transport: certifi's roots unless told otherwise.
            ssl=self._tls if self._tls is not None else httpx.create_ssl_context(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            # httpx decodes the body (gzip, deflate, ...) from the headers; aiohttp must not first.
            auto_decompress=False,
            # Every header comes from httpx's request, as httpx built it.
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None:
            session = self._session = self._open()
        timeouts = request.extensions.get("timeout", {})
        connect = timeouts.get("connect")
        pool = timeouts.get("pool")
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's ``connect`` covers waiting for a pooled connection and opening one.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=timeouts.get("read"),
        )
        with httpx_errors():
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),  # httpx has encoded it already
                headers=request.headers.multi_items(),
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=timeout,
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
