"""Bearer access tokens (JWT, RFC 9068 style) checked against one issuer's published keys.

The checks that matter most are the ones libraries leave to the caller: the algorithm comes
from configuration, never from the token (so ``none`` and HMAC-with-the-public-key forgeries
fail before any key is touched), and only asymmetric algorithms can be configured at all.
Every refusal is an ``AuthenticationError`` with a short fixed message: clients learn why,
never anything they sent back or anything about the identity provider.

A token's header and claims are JSON an attacker chose, so every member may have any JSON type
(``alg`` a list, ``sub`` an object, ``exp`` a string): each one the gateway reads is checked for
its type before it is used, and a claim it passes on (the subject, the scopes) must also be text
the database can hold (``contract.text``). Anything else is the same 401 as a bad signature.

A client sends the same token with every request until it expires, and checking a signature
costs more than answering a small query; so a validated token's principal is remembered, under
a hash of the token (never the token itself), until the token's ``exp`` — not a moment longer,
leeway or not. Refusals are never remembered: a bad token costs its sender every time.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from auth.jwks import KeySource
from auth.principal import Principal, PrincipalKind
from contract.errors import AuthenticationError
from contract.scopes import parse_scopes
from contract.text import first_unsafe_character

__all__ = ["ASYMMETRIC_ALGORITHMS", "TokenValidator"]

#: JWS algorithms a validator may be pinned to. ``EdDSA`` is left out because RFC 9864
#: deprecates it (joserfc warns on each use); ``Ed25519`` is its replacement.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K",
        "Ed25519", "Ed448",
    }
)  # fmt: skip

_CLAIM_PROBLEMS = {
    "iss": "wrong issuer",
    "aud": "wrong audience",
    "nbf": "not yet valid",
    "iat": "issued in the future",
}


class TokenValidator:
    """Validates access tokens of one issuer for one audience."""

    def __init__(
        self,
        *,
        key_source: KeySource,
        issuer: str,
        audience: str,
        algorithms: Sequence[str],
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        if isinstance(algorithms, str) or not algorithms:
            raise ValueError("algorithms must be a non-empty list of JWS algorithm names")
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ValueError(
                f"algorithms {refused} are not allowed: pin asymmetric ones such as RS256 or ES256"
            )
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        self._key_source = key_source
        self._issuer = issuer
        self._audience = audience
        self._algorithms = frozenset(algorithms)
        self._leeway = leeway_seconds
        self._clock = clock
        # Not strict about header names: RFC 7515 says to ignore unknown ones unless in "crit".
        self._registry = jws.JWSRegistry(
            algorithms=sorted(self._algorithms), strict_check_header=False
        )
        self._cache_size = cache_size
        self._validated: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    async def validate(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        remembered = self._validated.get(digest)
        if remembered is not None:
            principal, expires_at = remembered
            if self._clock() < expires_at:
                self._validated.move_to_end(digest)
                return principal
            del self._validated[digest]
        principal, expires_at = await self._validate(token)
        if self._cache_size:
            self._validated[digest] = (principal, expires_at)
            if len(self._validated) > self._cache_size:
                self._validated.popitem(last=False)
        return principal

    async def _validate(self, token: str) -> tuple[Principal, float]:
        header = self._read_header(token)
        kid: str | None = header.get("kid")
        key_set = await self._key_source.get_key_set(kid=kid)
        key = _select_key(key_set, kid)
        if key is None:
            raise AuthenticationError("invalid token: unknown signing key")
        claims = self._verify(token, key)
        self._check_claims(claims)
        principal = Principal(
            kind=PrincipalKind.USER,
            subject=_read_subject(claims),
            scopes=_read_scopes(claims),
        )
        return principal, _expires_at(claims["exp"])

    def _read_header(self, token: str) -> dict[str, Any]:
        """Check the header before fetching keys, so a forged alg never costs an IdP request."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise AuthenticationError("invalid token: malformed")
        try:
            header = jws.extract_compact(token.encode("ascii"), registry=self._registry).headers()
        except (JoseError, ValueError, TypeError, RecursionError):
            # RecursionError: JSON nested past the decoder's depth is still only malformed.
            raise AuthenticationError("invalid token: malformed") from None
        if not isinstance(header, dict):
            raise AuthenticationError("invalid token: malformed")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise AuthenticationError("invalid token: algorithm not allowed")
        if "kid" in header and not isinstance(header["kid"], str):
            raise AuthenticationError("invalid token: malformed")
        if "crit" in header:
            raise AuthenticationError("invalid token: unsupported header")
        return header

    def _verify(self, token: str, key: Key) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, key, registry=self._registry)
        except BadSignatureError:
            raise AuthenticationError("invalid token: bad signature") from None
        except (JoseError, ValueError, TypeError, OverflowError, RecursionError):
            # Wrong key type for the alg, key restricted to another alg or use, bad payload
            # (claims nested past the JSON decoder's depth among them).
            raise AuthenticationError("invalid token: malformed") from None
        if not isinstance(decoded.claims, dict):
            raise AuthenticationError("invalid token: malformed")
        return decoded.claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise AuthenticationError("invalid token: expired") from None
        except MissingClaimError as exc:
            # exc.claim lists only names from the registry above, never token content.
            raise AuthenticationError(f"invalid token: missing claim {exc.claim}") from None
        except InvalidClaimError as exc:
            problem = _CLAIM_PROBLEMS.get(exc.claim, f"invalid claim {exc.claim}")
            raise AuthenticationError(f"invalid token: {problem}") from None
        except (JoseError, ValueError, TypeError, OverflowError, RecursionError):
            # A claim of a type the registry cannot compare (``exp: [1]``, ``aud: {}``).
            raise AuthenticationError("invalid token: invalid claims") from None


def _select_key(key_set: KeySet, kid: str | None) -> Key | None:
    """A token without ``kid`` is only unambiguous when the issuer publishes a single key."""
    keys = list(key_set)
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.kid == kid), None)


def _expires_at(exp: int | float) -> float:
    """``exp`` (a number, checked by the claims registry) as a float: an integer too large for
    one (``1e400`` written out) is a token that never expires, not an OverflowError."""
    try:
        return float(exp)
    except OverflowError:
        return math.inf


def _read_subject(claims: dict[str, Any]) -> str:
    """Who the token is for: a non-empty string the users table can be searched with."""
    subject = claims.get("sub")
    if (
        not isinstance(subject, str)
        or not subject
        or first_unsafe_character(subject, identifier=True)
    ):
        raise AuthenticationError("invalid token: invalid claim sub")
    return subject


def _read_scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    scp = claims.get("scp")
    if scope is not None and not _is_text(scope):
        raise AuthenticationError("invalid token: invalid claim scope")
    if scp is not None and not (
        _is_text(scp) or (isinstance(scp, list) and all(_is_text(item) for item in scp))
    ):
        raise AuthenticationError("invalid token: invalid claim scp")
    return parse_scopes(scope) | parse_scopes(scp)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and first_unsafe_character(value, identifier=True) is None
