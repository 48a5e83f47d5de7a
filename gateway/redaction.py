"""Keeps partner API keys out of log lines, whoever writes them.

The gateway refuses a key sent in a URL, but the URL has already reached uvicorn's access log
(and would reach any logger that prints request paths) by then. This filter rewrites any
``mfk_…`` key in a record to its key id alone, so the secret never lands on disk.

Access logs print the query string as sent, percent-encoded, and a client may encode any
character of a key (``mfk%5F…``, ``%6Dfk_…``, even twice): so every URL-ish run of characters
holding a ``%`` is decoded (repeatedly, as a server might) before looking for a key, and a run
that turns out to hold one is logged decoded and redacted; a run still encoded after a few
rounds is redacted whole rather than decoded without end.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

__all__ = ["RedactApiKeys", "redact", "uvicorn_log_config"]

_KEY = re.compile(r"(?i:mfk)_([A-Za-z0-9]*)_[A-Za-z0-9]+")
#: Characters a URL query value may carry unencoded, and ``%`` escapes.
_URL_RUN = re.compile(r"[A-Za-z0-9%_.~+-]+")  # maximal runs: linear, no backtracking
_MAX_DECODES = 4
_DEEPLY_ENCODED = "[REDACTED]"


def _literal(text: str) -> str:
    return _KEY.sub(r"mfk_\1_[REDACTED]", text)


def _decoded(run: re.Match[str]) -> str:
    text = run.group(0)
    if "%" not in text:
        return text
    for _ in range(_MAX_DECODES):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    else:
        if unquote(text) != text:  # encoded deeper than any client does by mistake: hide it
            return _DEEPLY_ENCODED
    redacted = _literal(text)
    return run.group(0) if redacted == text else redacted


def redact(text: str) -> str:
    if "%" in text:
        text = _URL_RUN.sub(_decoded, text)
    return _literal(text)


class RedactApiKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        """Redacts the format string and each string argument in place, keeping the record's
        shape: formatters such as uvicorn's access formatter read ``args`` by position."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging, with the redaction filter on its access and error handlers."""
    from uvicorn.config import LOGGING_CONFIG  # noqa: PLC0415 - only the server needs uvicorn

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_api_keys"] = {"()": RedactApiKeys}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_api_keys")
    return config
