"""Tags every request with an id (the caller's ``X-Request-ID`` when sane) and times it.

A client-sent id is echoed, logged and forwarded upstream, so one that looks like a credential
(an ``mfk_`` API key, a JWT) is replaced by a generated id: a client that pastes its key into
the wrong header must not have it copied into every log line and every backend's logs.

Pure ASGI rather than ``BaseHTTPMiddleware`` so streaming responses and WebSockets pass through
untouched and no extra task is spawned per request.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.log import request_id_var
from gateway.observability.metrics import Metrics

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_API_KEY_MARK = "mfk_"
_JWT_LIKE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
HEADER = "x-request-id"


def acceptable_request_id(supplied: str) -> bool:
    """A safe, short id that does not look like an API key or a JWT."""
    return (
        _SAFE_ID.match(supplied) is not None
        and _API_KEY_MARK not in supplied.lower()
        and _JWT_LIKE.fullmatch(supplied) is None
    )


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = next(
            (
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == HEADER.encode()
            ),
            "",
        )
        request_id = supplied if acceptable_request_id(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            if scope["type"] == "http":
                self.metrics.http_duration.labels(
                    # A bounded label: a known route, never a raw path a client could vary.
                    route=scope["path"] if scope["path"] in self.routes else "unmatched",
                    method=scope["method"],
                    status=str(status),
                ).observe(time.perf_counter() - started)
