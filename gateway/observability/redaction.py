"""Keeps partner API keys out of log lines, whoever writes them.

The gateway refuses a key sent in a URL, but the URL has already reached uvicorn's access log
(and would reach any logger that prints request paths) by then. This filter rewrites any
``mfk_…`` key in a record to its key id alone, so the secret never lands on disk.

Access logs print the query string as sent, percent-encoded, and a client may encode any
character of a key (``mfk%5F…``, ``%6Dfk_…``, even twice): so every URL-ish run of characters
holding a ``%`` is decoded (repeatedly, as a server might) before looking for a key, and a run
that turns out to hold one is logged decoded and redacted; a run still encoded after a few
rounds is redacted whole rather than decoded without end.

Whatever the value looks like, the value of a query parameter whose name says it is a
credential (``api_key``, ``access_token``, ``password``… in any case, its name percent-encoded
or not) is replaced by ``[REDACTED]``: a key without the ``mfk_`` prefix, a JWT or a password
is refused by the gateway but has reached the access log all the same.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

__all__ = ["SENSITIVE_QUERY_PARAMETERS", "RedactApiKeys", "redact"]

#: Query parameters whose values are credentials, compared lower-cased and decoded.
SENSITIVE_QUERY_PARAMETERS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "x-api-key",
        "access_token",
        "token",
        "id_token",
        "password",
        "secret",
        "client_secret",
    }
)

_KEY = re.compile(r"(?i:mfk)_([A-Za-z0-9]*)_[A-Za-z0-9]+")
_KEY_ID = re.compile(r"(?i:mfk)_([A-Za-z0-9]*)_")
#: Characters a URL query value may carry unencoded, and ``%`` escapes.
_URL_RUN = re.compile(r"[A-Za-z0-9%_.~+-]+")  # maximal runs: linear, no backtracking
_MAX_DECODES = 4
_DEEPLY_ENCODED = "[REDACTED]"
#: One ``name[=value]`` of a query string: after ``?``, ``&`` or ``;`` (or at the very start,
#: for a logged query string alone), up to the next separator, space or quote.
_PARAMETER = re.compile(r"(^|[?&;])([^?&;=\s\"'#]+)(=[^&;\s\"'#]*)?")


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


def _fully_decoded(text: str) -> str:
    for _ in range(_MAX_DECODES + 1):
        decoded = unquote(text.replace("+", " "))
        if decoded == text:
            break
        text = decoded
    return text


def _parameter(match: re.Match[str]) -> str:
    """``name=[REDACTED]`` for a sensitive parameter, else the parameter as it was.

    The name is decoded before comparing, and an ``=`` encoded into it (``api_key%3Dsecret``)
    splits it as well, so no spelling of a sensitive name carries its value through.
    """
    separator, name, value = match.group(1), match.group(2), match.group(3)
    decoded_name = _fully_decoded(name)
    bare_name, encoded_equals, _ = decoded_name.partition("=")
    if bare_name.strip().lower() not in SENSITIVE_QUERY_PARAMETERS:
        return match.group(0)
    if value is None and not encoded_equals:
        return match.group(0)  # a bare flag carries no value
    key_id = _KEY_ID.match(_fully_decoded(value or "=")[1:].strip())
    # A partner key keeps its (public) key id, so whoever reads the log knows what to revoke;
    # a value already redacted so stays as it is.
    shown = f"mfk_{key_id.group(1)}_" if key_id and not encoded_equals else ""
    shown += _DEEPLY_ENCODED
    return f"{separator}{bare_name.strip()}={shown}"


def _redact_parameters(text: str) -> str:
    return _PARAMETER.sub(_parameter, text)


def redact(text: str) -> str:
    if "=" not in text and "%" not in text and "mfk" not in text.lower():
        return text  # nothing a credential could hide in: the common line costs no regex
    text = _redact_parameters(text)
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
