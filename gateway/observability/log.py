"""Process logging: every line carries the id of the request it was written for.

The id travels in a context variable set by the request-id middleware, so any logger (ours,
SQLAlchemy's, uvicorn's) gets it without being handed the request. JSON logs come with the
observability work; the field is already here.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from gateway.observability.redaction import RedactApiKeys

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Configure the root handler once per process (CLI and uvicorn worker entry points)."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactApiKeys())
    root.addHandler(handler)
    root.setLevel(level)
