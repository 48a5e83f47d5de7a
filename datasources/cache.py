"""The shared cache: Redis across replicas, or an in-process stand-in for the embedded default.

A small byte-oriented interface so callers choose their own serialization and a later backend
(Redis Cluster, a local tier in front of Redis) changes only this module.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources.backoff import Backoff

T = TypeVar("T")


class Cache(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None: ...

    async def set_many(self, items: Mapping[str, tuple[bytes, float]]) -> None:
        """Store each key's ``(value, ttl_seconds)`` in one round trip."""
        ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """A bounded LRU with per-entry expiry; shared by nothing but this process."""

    name = "memory"

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        self._entries[key] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def set_many(self, items: Mapping[str, tuple[bytes, float]]) -> None:
        for key, (value, ttl_seconds) in items.items():
            await self.set(key, value, ttl_seconds=ttl_seconds)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()


#: A cache answers in a millisecond or two; one that takes longer is treated as down.
REDIS_TIMEOUT_SECONDS = 0.5


class RedisCache:
    """Redis behind a back-off: after a failure, calls fail at once for a few seconds.

    Callers already treat a failing cache as a miss; the back-off makes a hung Redis cost one
    short timeout every few seconds instead of one per call, so requests keep their deadline.
    """

    name = "redis"

    def __init__(self, client: Redis, *, prefix: str = "manifold:") -> None:
        self._client = client
        self._prefix = prefix
        self._backoff = Backoff("the Redis cache")

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "manifold:") -> RedisCache:
        client = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        return cls(client, prefix=prefix)

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        self._backoff.check()
        try:
            result = await call()
        except (RedisError, OSError):
            self._backoff.failed()
            raise
        self._backoff.succeeded()
        return result

    async def get(self, key: str) -> bytes | None:
        value = await self._guarded(lambda: self._client.get(self._prefix + key))
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = await self._guarded(
            lambda: self._client.mget([self._prefix + key for key in keys])
        )
        return [value.encode() if isinstance(value, str) else value for value in values]

    async def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        await self._guarded(
            lambda: self._client.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))
        )

    async def set_many(self, items: Mapping[str, tuple[bytes, float]]) -> None:
        if not items:
            return

        async def write() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, (value, ttl_seconds) in items.items():
                    pipe.set(self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)))
                await pipe.execute()

        await self._guarded(write)

    async def delete(self, key: str) -> None:
        await self._guarded(lambda: self._client.delete(self._prefix + key))

    async def ping(self) -> None:
        # Readiness asks Redis itself, back-off or not: it must see recovery at once.
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


def create_cache(redis_url: str | None, *, prefix: str = "manifold:") -> Cache:
    return RedisCache.from_url(redis_url, prefix=prefix) if redis_url else MemoryCache()
