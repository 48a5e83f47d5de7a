"""Idempotency keys as clients send them: which one applies, and whose it is.

A key may come from the ``Idempotency-Key`` header (the IETF httpapi draft; HTTP only) or from
the mutation's ``idempotencyKey`` input field (any transport). Either will do; both are
accepted when they are equal, and two different keys for one mutation are refused rather than
one silently winning. Keys are 1 to 255 visible ASCII characters (a UUID is the usual choice)
and belong to the caller: the same key from two callers names two requests.
"""

from __future__ import annotations

import re

from auth.principal import Principal
from contract.errors import BadUserInputError

MAX_KEY_LENGTH = 255
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def check_key(key: str, *, source: str) -> str:
    if not _KEY.fullmatch(key):
        raise BadUserInputError(
            f"{source} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID will do).",
            extensions={"field": ["input", "idempotencyKey"]}
            if source == "idempotencyKey"
            else None,
        )
    return key


def chosen_key(header: str | None, field: str | None) -> str | None:
    """The key for one mutation: the header's, the input field's, or both when they agree."""
    if field is not None:
        check_key(field, source="idempotencyKey")
    if header is not None and field is not None and header != field:
        raise BadUserInputError(
            "The Idempotency-Key header and the idempotencyKey input differ: send one key.",
            extensions={"field": ["input", "idempotencyKey"]},
        )
    return field if field is not None else header


def key_scope(principal: Principal) -> str:
    """Whose key it is: a user's subject or a partner's key id, never shared between them."""
    return f"{principal.kind.value}:{principal.subject or ''}"
