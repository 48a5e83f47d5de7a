"""Partner API keys: ``mfk_<key id>_<secret>``, checked against an HMAC of the secret.

The key id is public (it names the key in logs, the CLI and budgets); the secret is shown once
at creation and only ``HMAC-SHA256(pepper, secret)`` is stored, so a database dump alone cannot
be replayed, and the comparison is constant-time. The ``mfk_`` prefix makes leaked keys easy to
recognise for secret scanners and for the query-string refusal.

Lookups are cached in the shared cache when there is one (Redis); without Redis they are not
cached at all, since a per-process cache could not hear of a revocation made by the CLI or by
another worker. A revocation deletes the cached
entry and also leaves a revocation marker that every lookup checks, because another process may
be about to write back an entry it read from the database just before the revocation committed:
the marker outlives any such entry, so every gateway sharing the Redis refuses the key at once.

The cache only saves queries: when Redis cannot be reached, lookups go to the database (whose
row is authoritative, revocation included), cache writes are skipped, and a warning is logged
at most once a minute, so an outage of Redis never fails authentication.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.key_material import (
    ALPHANUMERIC,
    KEY_ID_LENGTH,
    SECRET_LENGTH,
    format_key,
    hash_secret,
    parse_key,
    seal,
    unseal,
)
from auth.principal import Principal, PrincipalKind
from contract.errors import API_KEY_SCHEME, AuthenticationError, BadUserInputError, UpstreamError
from contract.scopes import Scope
from datasources import api_keys as store
from datasources.api_keys import ApiKeyRecord
from datasources.cache import Cache
from datasources.db import DATABASE_FAILURES, Database, is_outage
from datasources.pagination import Page, check_first
from datasources.tables import utc_now
from datasources.throttled_log import ThrottledWarning

__all__ = [
    "MAX_KEY_LIFETIME",
    "ApiKeys",
    "CreatedApiKey",
    "check_scopes",
    "lifetime_too_long",
]

logger = logging.getLogger("manifold.auth")

#: The longest a key may live: long enough for any partner contract, short enough that every
#: key expires eventually (and far inside what datetimes and the database can represent).
MAX_KEY_LIFETIME = timedelta(days=3650)

_INVALID = "invalid API key"


#: The most the ``last_used_at`` write may add to a request.
TOUCH_TIMEOUT_SECONDS = 0.5

#: What a cache call raises when Redis cannot be reached (refused, reset, timed out).
CACHE_FAILURES = (RedisError, OSError)

#: How long an id that names no key is remembered as unknown.
UNKNOWN_KEY_SECONDS = 30.0
_UNKNOWN = b"unknown"


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: ``key`` is the only time the plaintext exists outside the caller."""

    key: str
    record: ApiKeyRecord


@dataclass(frozen=True, slots=True)
class _CachedKey:
    secret_hash: str
    scopes: tuple[str, ...]
    budget: int | None
    expires_at: float | None
    revoked: bool

    def encode(self) -> bytes:
        return json.dumps(
            [self.secret_hash, self.scopes, self.budget, self.expires_at, self.revoked]
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> _CachedKey:
        secret_hash, scopes, budget, expires_at, revoked = json.loads(raw)
        return cls(secret_hash, tuple(scopes), budget, expires_at, bool(revoked))

    @classmethod
    def of(cls, record: ApiKeyRecord) -> _CachedKey:
        return cls(
            secret_hash=record.secret_hash,
            scopes=record.scopes,
            budget=record.budget,
            expires_at=None if record.expires_at is None else record.expires_at.timestamp(),
            revoked=record.revoked_at is not None,
        )


def lifetime_too_long() -> str:
    days = MAX_KEY_LIFETIME.days
    return f"a key may live at most {days} days ({days // 365} years)"


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The distinct known scopes, sorted; unknown ones or none at all are ``BAD_USER_INPUT``."""
    known = {str(scope) for scope in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise BadUserInputError(f"unknown scope(s): {', '.join(unknown)}")
    if not scopes:
        raise BadUserInputError("a key needs at least one scope")
    return tuple(sorted(set(scopes)))


class ApiKeys:
    """Creates, lists, revokes and authenticates partner keys."""

    def __init__(
        self,
        *,
        database: Database,
        cache: Cache | None,
        pepper: bytes,
        cache_seconds: float = 60.0,
        touch_interval: timedelta = timedelta(minutes=1),
    ) -> None:
        if not pepper:
            raise ValueError("the API key pepper must not be empty")
        self._database = database
        self._cache = cache
        self._pepper = pepper
        self._cache_seconds = cache_seconds
        self._touch_interval = touch_interval
        self._touched: dict[str, float] = {}
        self._warn = ThrottledWarning(logger)

    async def create(
        self,
        *,
        name: str,
        scopes: list[str] | tuple[str, ...],
        owner: str | None = None,
        budget: int | None = None,
        expires_at: datetime | None = None,
        within: Callable[[AsyncConnection, CreatedApiKey], Awaitable[None]] | None = None,
    ) -> CreatedApiKey:
        """A new key; ``within`` runs in the transaction that inserts it (an idempotency key's
        answer is stored there, so no key exists that a retry would not find)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise BadUserInputError("name must be 1 to 200 characters")
        if owner is not None and len(owner) > 200:
            raise BadUserInputError("owner must be at most 200 characters")
        if budget is not None and budget < 1:
            raise BadUserInputError("budget must be a positive number of points")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise BadUserInputError("expiresAt must carry a time zone")
            if expires_at <= utc_now():
                raise BadUserInputError("expiresAt must be in the future")
            if expires_at - utc_now() > MAX_KEY_LIFETIME:
                raise BadUserInputError(lifetime_too_long())
        key_id = "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(KEY_ID_LENGTH)
        )
        secret = "".join(secrets.choice(ALPHANUMERIC) for _ in range(SECRET_LENGTH))

        async def inserted(connection: AsyncConnection, record: ApiKeyRecord) -> None:
            if within is not None:
                await within(
                    connection, CreatedApiKey(key=format_key(key_id, secret), record=record)
                )

        record = await store.insert_api_key(
            self._database,
            key_id=key_id,
            secret_hash=hash_secret(self._pepper, secret),
            name=name,
            owner=owner,
            scopes=check_scopes(scopes),
            budget=budget,
            expires_at=expires_at,
            within=inserted,
        )
        # A probe may have remembered this id as unknown (for at most UNKNOWN_KEY_SECONDS).
        await self._cache_delete(self._entry_key(key_id))
        return CreatedApiKey(key=format_key(key_id, secret), record=record)

    def seal(self, plaintext: str) -> str:
        """How a new key is kept for a retried ``createApiKey``: encrypted, never in clear."""
        return seal(self._pepper, plaintext)

    def unseal(self, sealed: str) -> str:
        return unseal(self._pepper, sealed)

    async def by_key_id(self, key_id: str) -> ApiKeyRecord | None:
        return await store.api_key_by_key_id(self._database, key_id)

    async def revoke(self, key_id: str) -> ApiKeyRecord | None:
        record = await store.revoke_api_key(self._database, key_id)
        if record is not None:
            # The marker first: from here on no process accepts the key, whatever it cached.
            # Best effort: with Redis down every lookup reads the (revoked) row anyway.
            await self._cache_set(
                self._revoked_key(key_id), b"1", ttl_seconds=self._cache_seconds * 2 + 5
            )
            await self._cache_delete(self._entry_key(key_id))
        return record

    async def page(self, *, first: int | None, after: str | None) -> Page[ApiKeyRecord]:
        after_id = None if after is None else store.parse_api_key_cursor(after)
        return await store.list_api_keys(
            self._database, first=check_first(first), after_id=after_id
        )

    async def authenticate(self, presented: str) -> Principal:
        key_id, secret = parse_key(presented)
        cached, from_database = await self._lookup(key_id)
        if cached is None or not hmac.compare_digest(
            cached.secret_hash, hash_secret(self._pepper, secret)
        ):
            raise AuthenticationError(_INVALID, scheme=API_KEY_SCHEME)
        if not cached.revoked and self._cache is not None:
            try:
                marked = await self._cache.get(self._revoked_key(key_id)) is not None
            except CACHE_FAILURES:
                self._warn_cache_unreachable()
                # The row decides; a cached entry alone cannot prove the key still stands.
                if not from_database:
                    cached = await self._from_database(key_id)
                marked = cached is not None and cached.revoked
            if marked:
                raise AuthenticationError("API key revoked", scheme=API_KEY_SCHEME)
        if cached is None:
            raise AuthenticationError(_INVALID, scheme=API_KEY_SCHEME)
        if cached.revoked:
            raise AuthenticationError("API key revoked", scheme=API_KEY_SCHEME)
        if cached.expires_at is not None and cached.expires_at <= time.time():
            raise AuthenticationError("API key expired", scheme=API_KEY_SCHEME)
        await self._touch(key_id)
        return Principal(
            kind=PrincipalKind.PARTNER,
            subject=key_id,
            scopes=frozenset(cached.scopes),
            budget=cached.budget,
        )

    async def _lookup(self, key_id: str) -> tuple[_CachedKey | None, bool]:
        """The key's entry, and whether it was read from the database just now."""
        if self._cache is not None:
            try:
                raw = await self._cache.get(self._entry_key(key_id))
            except CACHE_FAILURES:
                self._warn_cache_unreachable()
                return await self._from_database(key_id), True
            if raw == _UNKNOWN:
                return None, False
            if raw is not None:
                return _CachedKey.decode(raw), False
        record = await self._read_row(key_id)
        if record is None:
            # Remembered briefly, so a stream of guessed ids costs Redis reads, not queries.
            await self._cache_set(
                self._entry_key(key_id),
                _UNKNOWN,
                ttl_seconds=min(UNKNOWN_KEY_SECONDS, self._cache_seconds),
            )
            return None, True
        entry = _CachedKey.of(record)
        await self._cache_set(
            self._entry_key(key_id), entry.encode(), ttl_seconds=self._cache_seconds
        )
        return entry, True

    async def _from_database(self, key_id: str) -> _CachedKey | None:
        record = await self._read_row(key_id)
        return None if record is None else _CachedKey.of(record)

    async def _read_row(self, key_id: str) -> ApiKeyRecord | None:
        try:
            return await store.api_key_by_key_id(self._database, key_id)
        except DATABASE_FAILURES as error:
            if not is_outage(error):
                raise
            # The key may be fine: the client should retry, not discard it (503, not 401).
            self._database.report_unavailable(error)
            raise UpstreamError("API keys cannot be checked right now; retry shortly") from None

    async def _cache_set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        if self._cache is None:
            return
        try:
            await self._cache.set(key, value, ttl_seconds=ttl_seconds)
        except CACHE_FAILURES:
            self._warn_cache_unreachable()

    async def _cache_delete(self, key: str) -> None:
        if self._cache is None:
            return
        try:
            await self._cache.delete(key)
        except CACHE_FAILURES:
            self._warn_cache_unreachable()

    def _warn_cache_unreachable(self) -> None:
        self._warn("API key cache unreachable: checking keys against the database")

    async def _touch(self, key_id: str) -> None:
        """``last_used_at`` at most once per interval: throttled here, and in SQL for all
        processes."""
        now = time.monotonic()
        last = self._touched.get(key_id)
        if last is not None and now - last < self._touch_interval.total_seconds():
            return
        self._touched[key_id] = now
        if len(self._touched) > 10_000:
            self._touched.clear()
        # Bookkeeping, not authorization: it may never delay or fail the request it records.
        try:
            async with asyncio.timeout(TOUCH_TIMEOUT_SECONDS):
                await store.touch_api_key(self._database, key_id, interval=self._touch_interval)
        except TimeoutError as error:
            self._database.report_unavailable(error)
        except DATABASE_FAILURES as error:
            if not is_outage(error):
                raise
            self._database.report_unavailable(error)

    @staticmethod
    def _entry_key(key_id: str) -> str:
        return f"apikey:{key_id}"

    @staticmethod
    def _revoked_key(key_id: str) -> str:
        return f"apikey-revoked:{key_id}"
