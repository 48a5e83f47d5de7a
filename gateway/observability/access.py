"""The access line: one per request, replacing uvicorn's (which has no timestamp, request id,
trace id, caller or operation), and the per-operation metrics, from the request's record."""

from __future__ import annotations

import logging

from gateway.observability.metrics import ADHOC, Metrics
from gateway.observability.record import RequestRecord

logger = logging.getLogger("manifold.access")


def operation_label(name: str | None, *, trusted: bool) -> str:
    """A bounded label: a trusted document's name, else ``adhoc`` (client-chosen names are
    unbounded)."""
    return (name or "anonymous") if trusted else ADHOC


def finish(record: RequestRecord, *, status: int, seconds: float, metrics: Metrics) -> None:
    for operation in record.operations:
        metrics.operation_duration.labels(
            type=operation.type,
            operation=operation_label(operation.name, trusted=operation.trusted),
        ).observe(seconds)
    for code in record.codes:
        metrics.errors.labels(code=code).inc()
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        "%s %s %d",
        record.method,
        record.path,
        status,
        extra={
            "request_id": record.request_id,
            "trace_id": record.trace_id,
            "fields": {
                "method": record.method,
                "path": record.path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": record.client,
                "principal": record.principal,
                "operation_type": ",".join(o.type for o in record.operations) or None,
                "operation_name": ",".join(o.name or "-" for o in record.operations) or None,
                "error_codes": sorted(set(record.codes)),
            },
        },
    )
