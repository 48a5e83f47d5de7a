"""Tags every request with an id (the caller's ``X-Request-ID`` when sane), traces, times and
logs it.

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

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datasources.tracing import extract, reset_tracer, use_tracer
from gateway.observability import access
from gateway.observability.log import current_trace_id, request_id_var
from gateway.observability.metrics import Metrics
from gateway.observability.record import RequestRecord, current_record

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_API_KEY_MARK = "mfk_"
_JWT_LIKE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
HEADER = "x-request-id"
HEADER_BYTES = HEADER.encode()
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})


def acceptable_request_id(supplied: str) -> bool:
    """A safe, short id that does not look like an API key or a JWT."""
    return (
        _SAFE_ID.match(supplied) is not None
        and _API_KEY_MARK not in supplied.lower()
        and _JWT_LIKE.fullmatch(supplied) is None
    )


def _enter_trace(
    tracer: Tracer | None, headers: dict[str, str] | None, method: str, route: str
) -> tuple[Span | None, object | None]:
    """The request's server span (tracing on) or the client's context (tracing off), made
    current; and the token that detaches it."""
    if tracer is not None:
        parent = extract(headers or {})
        server_span = tracer.start_span(
            f"{method} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
        )
        return server_span, otel_context.attach(trace.set_span_in_context(server_span, parent))
    if headers is not None:
        # Tracing off: keep the client's context, so logs and upstreams carry its trace.
        return None, otel_context.attach(extract(headers))
    return None, None


class RequestIdMiddleware:
    """Tags, traces, times and logs every request: the one access line, its metrics, and the
    server span whose trace id every log line of the request carries."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = ""
        traced_headers: dict[str, str] | None = None
        for name, value in scope["headers"]:
            if name == HEADER_BYTES and not supplied:
                supplied = value.decode("latin-1")
            elif name in _TRACE_HEADERS:
                traced_headers = traced_headers or {}
                traced_headers[name.decode()] = value.decode("latin-1")
        request_id = supplied if acceptable_request_id(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        route = scope["path"] if scope["path"] in self.routes else "unmatched"
        method = scope.get("method", "GET")
        tracer: Tracer | None = getattr(scope["app"].state, "tracer", None)
        server_span, trace_token = _enter_trace(tracer, traced_headers, method, route)
        client = scope.get("client")
        record = RequestRecord(
            request_id=request_id,
            method=method,
            path=route,
            client=client[0] if client else None,
            trace_id=current_trace_id(),
        )
        tokens = (
            request_id_var.set(request_id),
            current_record.set(record),
            use_tracer(tracer),
        )
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
            elapsed = time.perf_counter() - started
            if scope["type"] == "http":
                self.metrics.http_duration.labels(
                    # A bounded label: a known route, never a raw path a client could vary.
                    route=route,
                    method=method,
                    status=str(status),
                ).observe(elapsed)
                access.finish(record, status=status, seconds=elapsed, metrics=self.metrics)
            if server_span is not None:
                server_span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    server_span.set_status(Status(StatusCode.ERROR))
                server_span.end()
            if trace_token is not None:
                otel_context.detach(trace_token)  # type: ignore[arg-type]
            reset_tracer(tokens[2])
            current_record.reset(tokens[1])
            request_id_var.reset(tokens[0])
