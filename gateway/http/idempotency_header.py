"""The ``Idempotency-Key`` request header (IETF httpapi draft), read before the pipeline runs.

The draft makes the value a Structured Field string (``Idempotency-Key: "8e03978e-…"``); a bare
token (``Idempotency-Key: 8e03978e-…``), which most clients send, is accepted too. A malformed
or repeated header fails the whole request with 400 ``BAD_USER_INPUT`` before anything else
runs: a client that meant to make its retry safe must learn at once that it did not.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from contract.errors import BadUserInputError
from gateway.operations.refusal import Refused, bad_request
from resolvers.idempotency import check_key

HEADER = "idempotency-key"


def _unquoted(raw: str) -> str:
    """An sf-string's content: only ``\\"`` and ``\\\\`` may be escaped."""
    inner, out, escaped = raw[1:-1], [], False
    for char in inner:
        if escaped:
            if char not in '"\\':
                raise bad_request("The Idempotency-Key header is not a valid string.")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            raise bad_request("The Idempotency-Key header is not a valid string.")
        else:
            out.append(char)
    if escaped:
        raise bad_request("The Idempotency-Key header is not a valid string.")
    return "".join(out)


def idempotency_key(headers: Headers) -> str | None:
    """The request's key, or None; ``Refused`` (400) when the header is malformed."""
    values = headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise bad_request("Send one Idempotency-Key header.")
    raw = values[0].strip()
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise bad_request("The Idempotency-Key header is not a valid string.")
        raw = _unquoted(raw)
    try:
        return check_key(raw, source="The Idempotency-Key header")
    except BadUserInputError as error:
        raise Refused.because(400, error.code, error.message) from None
