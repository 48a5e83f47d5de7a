"""Where the keys that verify access tokens come from.

A gateway validates every request's token, so keys are cached in memory and the identity
provider is asked again only when the cache is old, or when a token names a key the cache does
not hold (the IdP rotated). That second trigger is attacker-controlled — anyone can send tokens
with random ``kid`` values — so it is limited to one fetch per cooldown, and concurrent misses
share one fetch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey

from contract.errors import AuthenticationError

__all__ = ["KeySource", "RemoteJwksSource", "StaticKeySource"]

logger = logging.getLogger(__name__)

#: Only keys usable with asymmetric signatures are kept: an ``oct`` key in a published JWKS
#: would be a shared secret anyone can read.
_ASYMMETRIC_KEY_TYPES: dict[str, type[RSAKey] | type[ECKey] | type[OKPKey]] = {
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
}


class KeySource(Protocol):
    """Gives the token validator the keys of one issuer."""

    async def get_key_set(self, *, kid: str | None) -> KeySet:
        """Return the current key set, refreshed if possible so that it holds ``kid``.

        The result may still lack ``kid``: the caller decides that the token is invalid.
        """
        ...


class StaticKeySource:
    """A fixed key set, for the development issuer and tests, where nothing rotates."""

    def __init__(self, key_set: KeySet) -> None:
        self._key_set = key_set

    async def get_key_set(self, *, kid: str | None) -> KeySet:
        return self._key_set


class RemoteJwksSource:
    """An identity provider's published JWKS, cached, refreshed on rotation, never hammered."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        url: str,
        cache_seconds: float = 3600,
        cooldown_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_seconds <= 0 or cooldown_seconds < 0:
            raise ValueError("cache_seconds must be positive and cooldown_seconds not negative")
        self._client = client
        self._url = url
        self._cache_seconds = cache_seconds
        self._cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._key_set: KeySet | None = None
        self._loaded_at = 0.0
        self._attempted_at: float | None = None
        self._fetch_count = 0

    @property
    def loaded(self) -> bool:
        """Whether a key set is held, fresh or stale: what readiness needs to know."""
        return self._key_set is not None

    @property
    def fetch_count(self) -> int:
        """HTTP fetches attempted so far, successful or not."""
        return self._fetch_count

    async def get_key_set(self, *, kid: str | None) -> KeySet:
        usable = self._usable(kid)
        if usable is not None:
            return usable
        async with self._lock:
            # Whoever held the lock may have fetched what this caller is missing.
            usable = self._usable(kid)
            if usable is None and self._may_fetch():
                await self._fetch()
        return self._current()

    async def refresh(self) -> None:
        """Fetch now, ignoring the cooldown: for startup and operator-triggered reloads."""
        async with self._lock:
            await self._fetch()
        self._current()

    def _usable(self, kid: str | None) -> KeySet | None:
        key_set = self._key_set
        if key_set is None or self._clock() - self._loaded_at >= self._cache_seconds:
            return None
        if kid is not None and all(key.kid != kid for key in key_set):
            return None
        return key_set

    def _may_fetch(self) -> bool:
        return (
            self._attempted_at is None
            or self._clock() - self._attempted_at >= self._cooldown_seconds
        )

    def _current(self) -> KeySet:
        if self._key_set is None:
            # The URL and the cause go to the log, never into a client-facing message.
            raise AuthenticationError("signing keys unavailable")
        return self._key_set

    async def _fetch(self) -> None:
        started = self._attempted_at = self._clock()
        self._fetch_count += 1
        try:
            response = await self._client.get(self._url, headers={"Accept": "application/json"})
            response.raise_for_status()
            key_set = _parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            # A stale set keeps serving: an IdP outage must not log every user out.
            logger.warning(
                "JWKS fetch from %s failed (%s); %s",
                self._url,
                type(exc).__name__,
                "keeping the cached key set" if self._key_set else "no key set cached",
            )
            return
        self._key_set = key_set
        self._loaded_at = started


def _parse_jwks(document: Any) -> KeySet:
    """Keep each asymmetric public key that imports; skip the rest, as RFC 7517 §5 allows."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: list[Key] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        key_class = _ASYMMETRIC_KEY_TYPES.get(str(entry.get("kty")))
        if key_class is None:
            continue
        try:
            key = key_class.import_key(entry)
        except (JoseError, ValueError, TypeError, KeyError):
            logger.warning("skipping a JWKS entry that does not import")
            continue
        if key.is_private:
            # Verification needs only the public half; do not keep what was leaked.
            key = key_class.import_key(key.as_dict(private=False))
        keys.append(key)
    if not keys:
        raise ValueError("JWK Set has no usable signing key")
    return KeySet(keys)
