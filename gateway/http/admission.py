"""Admission of ``/graphql`` requests: the deadline starts at arrival, excess load is shed.

Runs before the body is read or parsed, so a request refused for overload costs a few
microseconds and a precomputed answer: 503, ``Retry-After`` and the contract's error shape
(``UPSTREAM_UNAVAILABLE``: the gateway itself is the upstream that cannot serve now). The
request's ``Deadline`` is made here, on arrival, and handed to the view through the ASGI
scope's state, so time spent queueing counts against it like any other wait.

During draining every response says ``Connection: close``: clients on kept-alive connections
reconnect (to another replica, behind a load balancer) instead of sending into a listener that
is about to close.
"""

from __future__ import annotations

import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.errors import ErrorCode
from datasources.resilience import Deadline
from gateway.demand.concurrency import ConcurrencyLimiter
from gateway.http.media_types import request_asks_event_stream, response_media_type
from gateway.observability.metrics import Metrics
from gateway.runtime.shutdown import Shutdown

GRAPHQL_PATH = "/graphql"
SHED_MESSAGE = "The gateway is overloaded; retry shortly."
_SHED_BODY = orjson.dumps(
    {"errors": [{"message": SHED_MESSAGE, "extensions": {"code": ErrorCode.UPSTREAM_UNAVAILABLE}}]}
)


def request_deadline(scope: Scope) -> Deadline | None:
    """The deadline made when the request arrived, if it came through admission."""
    deadline: Deadline | None = scope.get("state", {}).get("deadline")
    return deadline


class AdmissionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: ConcurrencyLimiter,
        metrics: Metrics,
        shutdown: Shutdown,
        request_timeout_seconds: float,
        queue_timeout_seconds: float,
        retry_after_seconds: int,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics
        self.shutdown = shutdown
        self.request_timeout = request_timeout_seconds
        self.queue_timeout = queue_timeout_seconds
        self.retry_after = str(retry_after_seconds).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._closing_when_draining(send)
        if scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        deadline = Deadline(self.request_timeout)
        scope.setdefault("state", {})["deadline"] = deadline
        if request_asks_event_stream(scope):
            # A subscription stream lasts minutes: it would hold an execution slot all along.
            # Streams are bounded by their own limit (GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS).
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        if not limiter.try_acquire():
            if not limiter.can_queue():
                await self._shed(scope, send, "queue_full")
                return
            self.metrics.queued.inc()
            try:
                admitted = await limiter.acquire(min(self.queue_timeout, deadline.remaining()))
            finally:
                self.metrics.queued.dec()
            if not admitted:
                await self._shed(scope, send, "queue_timeout")
                return
        started = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.in_flight.dec()
            limiter.release(time.perf_counter() - started)
            self.metrics.concurrency_limit.set(limiter.limit)

    def _closing_when_draining(self, send: Send) -> Send:
        shutdown = self.shutdown

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and shutdown.draining:
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        return send_closing

    async def _shed(self, scope: Scope, send: Send, reason: str) -> None:
        self.metrics.shed.labels(reason=reason).inc()
        accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
        media_type = response_media_type(accept.decode("latin-1"))
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(_SHED_BODY)).encode()),
                    (b"retry-after", self.retry_after),
                    (b"cache-control", b"no-store"),
                    # Go elsewhere: a client that reconnects lands on another replica behind a
                    # load balancer, and one that retries at once pays a reconnect for it.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _SHED_BODY})
