"""Opaque (non-JWT) bearer tokens, validated by the issuer's RFC 7662 introspection endpoint.

The gateway authenticates to the endpoint with client credentials (HTTP Basic, RFC 7662 §2.1).
Active results are cached under a hash of the token (never the token itself) for at most the
configured time and never past the token's ``exp``, so a cached answer cannot outlive the token.
An answer naming an audience (``aud``) must name this gateway's, and one naming an issuer
(``iss``) must name the configured issuer, as for JWTs: a token minted for another API is not
a token for this one. Inactive answers are not cached: a refusal costs the caller, not the
next legitimate request.
The cache only saves calls: when Redis cannot be reached the endpoint is asked every time (a
warning is logged at most once a minute) rather than every opaque-token request failing.

The endpoint's answer is JSON from another system, so every member the gateway reads is checked
for its type (``exp`` a finite number, ``sub`` storable single-line text, …) before it is
used; an answer that does not read is a 401 like an inactive token, and a cached entry that
does not read is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeGuard

import httpx
from redis.exceptions import RedisError

from auth.principal import Principal, PrincipalKind
from contract.errors import AuthenticationError, UpstreamError
from contract.scopes import parse_scopes
from contract.text import first_unsafe_character
from datasources.cache import Cache
from datasources.throttled_log import ThrottledWarning

__all__ = ["TokenIntrospector", "looks_like_jwt"]

logger = logging.getLogger("manifold.auth")

#: What a cache call raises when Redis cannot be reached (refused, reset, timed out).
_CACHE_FAILURES = (RedisError, OSError)

_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def looks_like_jwt(token: str) -> bool:
    """Three non-empty base64url segments (a JWS compact serialization); others are opaque."""
    parts = token.split(".")
    return len(parts) == 3 and all(part and set(part) <= _BASE64URL for part in parts)


class TokenIntrospector:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        url: str,
        client_id: str,
        client_secret: str,
        cache: Cache,
        audience: str,
        issuer: str | None = None,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._url = url
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._cache = cache
        self._audience = audience
        self._issuer = issuer
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache_warning = ThrottledWarning(logger)

    async def validate(self, token: str) -> Principal:
        cache_key = "introspection:" + hashlib.sha256(token.encode()).hexdigest()
        try:
            cached = await self._cache.get(cache_key)
        except _CACHE_FAILURES:
            self._warn_cache_unreachable()
            cached = None
        principal = self._from_cache(cached)
        if principal is not None:
            return principal
        claims = await self._introspect(token)
        if claims.get("active") is not True:
            raise AuthenticationError("invalid token: not active")
        expires_at = claims.get("exp")
        if expires_at is not None and not _is_finite_number(expires_at):
            raise AuthenticationError("invalid token: invalid claim exp")
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise AuthenticationError("invalid token: expired")
        self._check_audience_and_issuer(claims)
        subject = claims.get("sub") or claims.get("client_id")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("invalid token: missing claim sub")
        if first_unsafe_character(subject, identifier=True):
            raise AuthenticationError("invalid token: invalid claim sub")
        scope = claims.get("scope")
        if scope is not None and (
            not isinstance(scope, str) or first_unsafe_character(scope, identifier=True)
        ):
            raise AuthenticationError("invalid token: invalid claim scope")
        scopes = parse_scopes(scope)
        ttl = (
            self._cache_seconds
            if expires_at is None
            else min(self._cache_seconds, expires_at - now)
        )
        if ttl > 0:
            payload = json.dumps([subject, sorted(scopes), expires_at]).encode()
            try:
                await self._cache.set(cache_key, payload, ttl_seconds=ttl)
            except _CACHE_FAILURES:
                self._warn_cache_unreachable()
        return Principal(PrincipalKind.USER, subject, scopes)

    def _from_cache(self, cached: bytes | None) -> Principal | None:
        """A cached, still valid answer; None for a miss, an expired entry or one that does not
        read (the cache is shared: never trust its bytes further than their shape)."""
        if cached is None:
            return None
        try:
            subject, scopes, expires_at = json.loads(cached)
        except (ValueError, TypeError):
            return None
        if (
            not isinstance(subject, str)
            or not isinstance(scopes, list)
            or not all(isinstance(scope, str) for scope in scopes)
            or not (expires_at is None or _is_finite_number(expires_at))
        ):
            return None
        if expires_at is not None and expires_at <= self._clock():
            return None
        return Principal(PrincipalKind.USER, subject, frozenset(scopes))

    def _check_audience_and_issuer(self, claims: dict[str, object]) -> None:
        """Both claims are optional in RFC 7662; when present they must name us."""
        audience = claims.get("aud")
        if audience is not None:
            audiences = [audience] if isinstance(audience, str) else audience
            if not isinstance(audiences, list) or self._audience not in audiences:
                raise AuthenticationError("invalid token: invalid claim aud")
        issuer = claims.get("iss")
        if issuer is not None and self._issuer is not None and issuer != self._issuer:
            raise AuthenticationError("invalid token: invalid claim iss")

    def _warn_cache_unreachable(self) -> None:
        self._cache_warning("introspection cache unreachable: asking the endpoint every time")

    async def _introspect(self, token: str) -> dict[str, object]:
        try:
            response = await self._client.post(
                self._url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            # The token may be fine: the client should retry, not throw it away (503, not 401).
            logger.warning("token introspection failed: %s", type(error).__name__)
            raise UpstreamError("the identity provider is unavailable; retry shortly") from None
        if response.status_code >= 500:
            logger.warning("token introspection answered HTTP %s", response.status_code)
            raise UpstreamError("the identity provider is unavailable; retry shortly")
        if response.status_code != 200:
            logger.warning("token introspection answered HTTP %s", response.status_code)
            raise AuthenticationError("invalid token: could not be verified")
        try:
            claims = response.json()
        except (ValueError, RecursionError):
            raise AuthenticationError("invalid token: could not be verified") from None
        if not isinstance(claims, dict):
            raise AuthenticationError("invalid token: could not be verified")
        return claims


def _is_finite_number(value: Any) -> TypeGuard[float]:
    """A NumericDate: a JSON number (``true`` is not one, nor NaN, which Python's JSON reads)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
