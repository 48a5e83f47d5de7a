"""What one request did, noted by the layers that know it, for its log line and metrics.

The transport knows the method and status, the pipeline which operations ran and whether each
was a trusted document, the credential check who called, the answer which error codes it
carried; the request middleware writes the one access line and the metrics from this record
when the response is done. It travels in a context variable, so the pipeline notes what it
knows without knowing any transport, and a layer outside a request notes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from datasources.tracing import current_tracer


@dataclass(frozen=True, slots=True)
class NotedOperation:
    type: str
    name: str | None
    #: A trusted (persisted, reviewed) document: its name is a bounded label.
    trusted: bool


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    client: str | None
    trace_id: str | None = None
    principal: str | None = None
    operations: list[NotedOperation] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


current_record: ContextVar[RequestRecord | None] = ContextVar("manifold_request", default=None)


def note_operation(kind: str, name: str | None, *, trusted: bool) -> None:
    record = current_record.get()
    if record is not None:
        record.operations.append(NotedOperation(kind, name, trusted))
    if current_tracer() is not None:
        current = trace.get_current_span()
        current.update_name(f"{kind} {name}" if name else kind)
        current.set_attribute("graphql.operation.type", kind)
        if name:
            current.set_attribute("graphql.operation.name", name)


def note_principal(kind: str) -> None:
    record = current_record.get()
    if record is not None:
        record.principal = kind


def note_errors(body: Any) -> None:
    """Error codes of an answer (a batch's included), for the log line and the error counter."""
    record = current_record.get()
    if record is None:
        return
    items: Iterable[Any] = body if isinstance(body, list) else (body,)
    for item in items:
        if not isinstance(item, dict):
            continue
        for error in item.get("errors") or ():
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            record.codes.append(str(code) if code else "UNKNOWN")
