"""``/graphql`` over Server-Sent Events: the ``graphql-sse`` protocol's distinct-connections
mode, for clients and proxies that cannot do WebSocket.

A ``GET`` (query string) or ``POST`` (JSON body) to ``/graphql`` accepting
``text/event-stream`` is one operation on its own stream: ``event: next`` per result and
``event: complete`` at the end, with a comment line every
``GATEWAY_SUBSCRIPTION_KEEPALIVE_SECONDS``. Everything before the stream opens is HTTP's: the
origin rule (403), the credential in the headers checked by the same ``Authenticator`` (401),
the pipeline's refusals with their status and JSON errors (400, 429…), nothing executed. Once
open, the stream ends with ``complete`` when the subscription does, after an error event when
the credential expires or is revoked or the event broker stays down, and without ``complete``
when the replica drains (the client reconnects elsewhere) or the client reads too slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from contract.errors import AuthenticationError, ErrorCode, UpstreamError
from datasources.event_fanout import FeedInterrupted, SlowConsumer
from datasources.resilience import Deadline
from gateway.http.protocol import read_operations
from gateway.http.view import unauthenticated_response
from gateway.observability.record import note_principal
from gateway.operations.pipeline import Outcome
from gateway.operations.refusal import Refused
from gateway.operations.request import OperationCall, Transport
from gateway.operations.subscription import open_subscription
from gateway.subscriptions.caller import Caller, Ending
from gateway.subscriptions.credentials import credential_headers
from gateway.subscriptions.limits import principal_key
from gateway.subscriptions.service import SubscriptionService

logger = logging.getLogger("manifold.subscriptions")

TRANSPORT = "sse"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
]


def event(kind: str, payload: dict[str, Any] | None = None) -> bytes:
    data = b"" if payload is None else orjson.dumps(payload)
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


KEEPALIVE = b":\n\n"


async def sse_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    service: SubscriptionService = scope["app"].state.subscriptions
    request = Request(scope, receive=receive)
    prepared = await _open(request, service)
    if isinstance(prepared, Response):
        await prepared(scope, receive, send)
        return
    caller, key, stream = prepared
    service.metrics.connections.labels(transport=TRANSPORT).inc()
    service.metrics.active.labels(transport=TRANSPORT).inc()
    try:
        await _Stream(service, caller, send, receive).run(stream)
    finally:
        service.metrics.active.labels(transport=TRANSPORT).dec()
        service.metrics.connections.labels(transport=TRANSPORT).dec()
        service.occupancy.remove_subscription(key)
        service.occupancy.close_connection()


def _refusal(refused: Refused) -> Response:
    return JSONResponse(refused.payload(), status_code=refused.status, headers=refused.headers)


async def _open(
    request: Request, service: SubscriptionService
) -> Response | tuple[Caller, str, AsyncGenerator[Outcome, None] | Outcome]:
    """Everything before the stream: a ``Response`` for a refusal, else what to stream."""
    if request.method not in ("GET", "POST"):
        return _refusal(
            Refused.because(
                405,
                ErrorCode.OPERATION_NOT_ALLOWED,
                "Streams are opened with GET or POST.",
                headers={"Allow": "GET, POST"},
            )
        )
    if not service.origin_allowed(request.headers.get("origin"), request.headers.get("host")):
        service.metrics.closed.labels(reason="origin").inc()
        return _refusal(
            Refused.because(403, ErrorCode.FORBIDDEN, "This origin may not open subscriptions.")
        )
    if service.draining:
        return _refusal(
            Refused.because(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "This replica is going away; retry.",
                headers={"Retry-After": "1"},
            )
        )
    if not service.occupancy.open_connection():
        return _refusal(
            Refused.because(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "Too many streams on this replica; retry.",
                headers={"Retry-After": "5"},
            )
        )
    opened = False
    try:
        result = await _prepare(request, service)
        opened = not isinstance(result, Response)
        return result
    finally:
        if not opened:
            service.occupancy.close_connection()


async def _prepare(
    request: Request, service: SubscriptionService
) -> Response | tuple[Caller, str, AsyncGenerator[Outcome, None] | Outcome]:
    settings = service.settings
    caller = service.caller()
    try:
        (operation,), _ = await read_operations(
            request, max_body_bytes=settings.max_body_bytes, batch_max_operations=0
        )
        principal = await caller.authenticate(
            credential_headers(request.headers), request.query_params
        )
    except Refused as refused:
        return _refusal(refused)
    except AuthenticationError as error:
        return unauthenticated_response(error)
    except UpstreamError as error:
        return _refusal(
            Refused.because(503, error.code, error.message, headers={"Retry-After": "5"})
        )
    note_principal(principal.kind.value)
    client = request.client
    client_ip = client.host if client else None
    key = principal_key(principal, client_ip)
    if not service.occupancy.add_subscription(key):
        return _refusal(
            Refused.because(
                429,
                ErrorCode.RATE_LIMITED,
                f"At most {settings.subscription_max_per_principal} subscriptions may run at "
                "once for one caller.",
            )
        )
    try:
        call = OperationCall(
            operation=operation,
            transport=Transport.SSE,
            principal=caller.current,
            deadline=Deadline(settings.request_timeout_seconds),
            request_id=request.scope.get("state", {}).get("request_id", ""),
            client_ip=client_ip,
        )
        prepared = await service.pipeline.prepare(call)
        stream: AsyncGenerator[Outcome, None] | Outcome
        if isinstance(prepared, Outcome):
            stream = prepared
        else:
            stream = await open_subscription(
                service.pipeline,
                prepared,
                event_timeout_seconds=settings.request_timeout_seconds,
            )
    except Refused as refused:
        service.occupancy.remove_subscription(key)
        return _refusal(refused)
    except BaseException:
        service.occupancy.remove_subscription(key)
        raise
    return caller, key, stream


class _Stream:
    """Writes one subscription as an event stream, with keep-alives, until it ends."""

    def __init__(
        self, service: SubscriptionService, caller: Caller, send: Send, receive: Receive
    ) -> None:
        self.service = service
        self.settings = service.settings
        self.caller = caller
        self._send = send
        self._receive = receive
        self._lock = asyncio.Lock()

    async def write(self, chunk: bytes) -> None:
        async with self._lock, asyncio.timeout(self.settings.subscription_send_timeout_seconds):
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def run(self, stream: AsyncGenerator[Outcome, None] | Outcome) -> None:
        await self._send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        tasks = [
            asyncio.ensure_future(self._events(stream)),
            asyncio.ensure_future(self._keepalive()),
            asyncio.ensure_future(self._watch()),
            asyncio.ensure_future(self._disconnected()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not isinstance(stream, Outcome):
                with contextlib.suppress(Exception):
                    await stream.aclose()
            with contextlib.suppress(Exception):
                await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _events(self, stream: AsyncGenerator[Outcome, None] | Outcome) -> None:
        delivered = self.service.metrics.delivered.labels(transport=TRANSPORT)
        try:
            if isinstance(stream, Outcome):
                await self.write(event("next", stream.payload))
            else:
                async for outcome in stream:
                    await self.write(event("next", outcome.payload))
                    delivered.inc()
                if self.service.draining:
                    return  # no complete: the client reconnects to another replica
            await self.write(event("complete"))
        except FeedInterrupted:
            told = Refused.because(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "Order events are unavailable; subscribe again.",
            ).payload()
            await self.write(event("next", told))
            await self.write(event("complete"))
        except (SlowConsumer, TimeoutError):
            self.service.metrics.closed.labels(reason="slow_consumer").inc()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("unexpected failure serving an SSE subscription")

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.settings.subscription_keepalive_seconds)
            try:
                await self.write(KEEPALIVE)
            except TimeoutError:
                self.service.metrics.closed.labels(reason="slow_consumer").inc()
                return

    async def _watch(self) -> None:
        ended = await self.caller.watch()
        code = ErrorCode.UNAUTHENTICATED if ended.why is Ending.EXPIRED else ErrorCode.FORBIDDEN
        with contextlib.suppress(Exception):
            await self.write(event("next", Refused.because(401, code, ended.message).payload()))
            await self.write(event("complete"))

    async def _disconnected(self) -> None:
        while True:
            message: Message = await self._receive()
            if message["type"] == "http.disconnect":
                return
