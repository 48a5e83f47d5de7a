"""When an accepted credential stops being valid, for connections that outlive a request.

A WebSocket or SSE stream authenticates once and then runs for hours: it must close when its
bearer token expires (``exp``), and a partner key or an opaque token (which can be revoked at
any moment) must be checked again now and then. Only called on a credential the
``Authenticator`` has already accepted, so the token's signature and claims are known good and
reading ``exp`` back out of it needs no second verification.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson

from auth.credentials import HeaderLookup
from auth.introspection import looks_like_jwt


@dataclass(frozen=True, slots=True)
class Validity:
    #: Epoch seconds at which the credential expires; None: no expiry known.
    expires_at: float | None
    #: The credential can be revoked before it expires (an API key, an opaque token): check it
    #: again periodically.
    revocable: bool

    @classmethod
    def of_anonymous(cls) -> Validity:
        return cls(expires_at=None, revocable=False)


def validity(headers: HeaderLookup) -> Validity:
    """The validity of the credential in ``headers`` (already accepted)."""
    if headers.getlist("x-api-key"):
        return Validity(expires_at=None, revocable=True)
    values = headers.getlist("authorization")
    if not values:
        return Validity.of_anonymous()
    token = values[0].strip().partition(" ")[2].strip()
    if not looks_like_jwt(token):
        return Validity(expires_at=None, revocable=True)  # opaque: introspected again
    return Validity(expires_at=_exp(token), revocable=False)


def _exp(token: str) -> float | None:
    try:
        segment = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
