"""Process logging: one format for every logger, each line with its request and trace ids.

The ids travel in context variables set by the request middleware, so any logger (ours,
SQLAlchemy's, uvicorn's) gets them without being handed the request. ``json`` writes one object
per line for log pipelines (timestamp, level, logger, message, ids, and the line's own fields,
such as the access line's status and duration); ``text`` is the same for a human in a
terminal. Every handler redacts credentials (``redaction``) whatever wrote the line.

httpx logs every upstream call at INFO; the gateway's own DEBUG line per call replaces it, so
an ordinary INFO log holds one line per request, not one per upstream call.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

from gateway.observability.redaction import RedactApiKeys

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"
#: Loggers too chatty at INFO: each line they write there is one per upstream call.
_QUIET_LOGGERS = ("httpx", "httpcore")


def current_trace_id() -> str | None:
    """The trace id of the current span: ours, or the client's when tracing is off."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "trace_id"):
            record.trace_id = current_trace_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "trace_id": getattr(record, "trace_id", None),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text


class _ManifoldHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so reconfiguring replaces it rather than adding a second one."""


def uvicorn_log_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging in the gateway's format, on the same redacting handler as the app's.

    uvicorn applies it in each worker before the app is loaded, so even its start-up lines are
    JSON in prod; its access logger is silenced (the gateway writes its own access line).
    """
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact_api_keys": {"()": RedactApiKeys},
            "request_id": {"()": RequestIdFilter},
        },
        "formatters": {"manifold": {"()": formatter}},
        "handlers": {
            "manifold": {
                "()": _ManifoldHandler,
                "formatter": "manifold",
                "filters": ["request_id", "redact_api_keys"],
            }
        },
        "root": {"handlers": ["manifold"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level.upper()},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in _QUIET_LOGGERS},
        },
    }


def configure_logging(log_format: str = "text", level: str | int = logging.INFO) -> None:
    """Configure the root handler (CLI and uvicorn worker entry points); idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ManifoldHandler)]:
        root.removeHandler(handler)
    handler = _ManifoldHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactApiKeys())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
