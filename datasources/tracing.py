"""Spans for the work a request does, and the W3C ``traceparent`` it carries upstream.

The tracer travels in a context variable set per request by the gateway (one per app, never
OpenTelemetry's process-global provider, so two apps in one process never mix their traces).
With tracing off no tracer is set and ``span`` costs one context-variable read: every step of
the hot path may call it. ``inject_traceparent`` works either way: with tracing off the
request's context holds the client's own ``traceparent`` (a non-recording span), which is
forwarded unchanged, so an upstream still joins the client's trace.

SQL statements get a span each from engine events (``trace_statements``); SQLAlchemy runs them
in a greenlet that shares the request's context, so they nest under the dataloader batch that
sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry.context import Context as TraceContext
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_tracer: ContextVar[Tracer | None] = ContextVar("manifold_tracer", default=None)
_NOOP: AbstractContextManager[None] = nullcontext()
_PROPAGATOR = TraceContextTextMapPropagator()
_SPAN_KEY = "_manifold_span"

Attributes = Mapping[str, str | int | float | bool]


def use_tracer(tracer: Tracer | None) -> Token[Tracer | None]:
    return _tracer.set(tracer)


def reset_tracer(token: Token[Tracer | None]) -> None:
    _tracer.reset(token)


def current_tracer() -> Tracer | None:
    return _tracer.get()


def span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes | None = None
) -> AbstractContextManager[Any]:
    """A child span of the current one while tracing, else a shared no-op."""
    tracer = _tracer.get()
    if tracer is None:
        return _NOOP
    return _recorded(tracer, name, kind, attributes)


@contextmanager
def _recorded(
    tracer: Tracer, name: str, kind: SpanKind, attributes: Attributes | None
) -> Iterator[Span]:
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False
    ) as current:
        try:
            yield current
        except BaseException as error:
            # The type only: a message may carry data (an id, a host) that spans must not.
            current.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


def extract(headers: Mapping[str, str]) -> TraceContext:
    """The caller's trace context from its ``traceparent``/``tracestate`` (empty if none)."""
    return _PROPAGATOR.extract(headers)


def inject_traceparent(headers: MutableMapping[str, str]) -> None:
    """Add the current span's ``traceparent`` (and ``tracestate``) if there is one."""
    _PROPAGATOR.inject(headers)


def trace_statements(engine: AsyncEngine) -> Callable[[], None]:
    """A span per SQL statement the engine sends (the text, never its parameters).

    Returns the function that removes the listeners, like ``DatasourceMetrics.count_statements``.
    """
    sync_engine = engine.sync_engine
    system = engine.dialect.name

    def before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        tracer = _tracer.get()
        if tracer is None or context is None:
            return
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        setattr(
            context,
            _SPAN_KEY,
            tracer.start_span(
                verb,
                kind=SpanKind.CLIENT,
                attributes={"db.system": system, "db.query.text": statement[:2000]},
            ),
        )

    def after(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        current: Span | None = getattr(context, _SPAN_KEY, None)
        if current is not None:
            current.end()

    def failed(exception_context: Any) -> None:
        current: Span | None = getattr(exception_context.execution_context, _SPAN_KEY, None)
        if current is not None:
            error = exception_context.original_exception
            current.set_status(Status(StatusCode.ERROR, type(error).__name__))
            current.end()

    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    event.listen(sync_engine, "handle_error", failed)

    def remove() -> None:
        event.remove(sync_engine, "before_cursor_execute", before)
        event.remove(sync_engine, "after_cursor_execute", after)
        event.remove(sync_engine, "handle_error", failed)

    return remove
