"""The event broker: order events fanned out to every replica, or in process for the embedded
default.

A small interface, like the cache's, so the outbox publisher and the subscriptions that consume
it choose nothing about the transport, and a later backend changes only this module:

* ``publish`` is idempotent by event id: the outbox may hand the same event over twice (a
  publisher that crashed between publishing and recording it), and subscribers still see it
  once.
* ``subscribe(after=position)`` yields every event after ``position`` (``"0"``: everything
  retained), then new ones as they come, each with its own position to resume from; with no
  ``after``, only events published from now on. Every subscriber on every replica sees every
  event (fan-out, not a work queue).

Redis Streams carry it across replicas: ``XADD`` per event (trimmed to about ``max_length``
entries), ``XREAD`` per subscriber from its last position, and a marker per event id written
by the same Lua script as the entry, which is what makes publishing idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from datasources.cache import REDIS_TIMEOUT_SECONDS
from datasources.timeutil import as_utc

#: How long a published event id is remembered; far longer than any outbox retry takes.
PUBLISHED_MARKER_SECONDS = 7 * 24 * 3600
#: How long one blocking read waits before looking again (a subscriber's heartbeat).
BLOCK_SECONDS = 5.0
START = "0"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One state change of one order, as subscribers receive it.

    ``user_id`` is the order's owner, so a subscription can check ownership without a query;
    ``version`` counts the order's changes from 1, so a subscriber orders and de-duplicates by
    it (and sees a gap if it missed one).
    """

    id: str
    type: str
    order_id: int
    user_id: int
    version: int
    status: str
    payment_status: str | None
    occurred_at: datetime

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "type": self.type,
                "orderId": self.order_id,
                "userId": self.user_id,
                "version": self.version,
                "status": self.status,
                "paymentStatus": self.payment_status,
                "occurredAt": as_utc(self.occurred_at).isoformat().replace("+00:00", "Z"),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> OrderEvent:
        data: dict[str, Any] = orjson.loads(raw)
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            order_id=int(data["orderId"]),
            user_id=int(data["userId"]),
            version=int(data["version"]),
            status=str(data["status"]),
            payment_status=data["paymentStatus"],
            occurred_at=as_utc(datetime.fromisoformat(data["occurredAt"].replace("Z", "+00:00"))),
        )


@dataclass(frozen=True, slots=True)
class Delivered:
    #: The broker's position of this event: subscribe after it to resume.
    position: str
    event: OrderEvent


class EventBroker(Protocol):
    name: str

    async def publish(self, event: OrderEvent) -> bool:
        """True if published now, False if this event id was published before."""
        ...

    async def read(self, *, after: str, count: int = 100) -> list[Delivered]:
        """Events after ``after`` (``"0"``: from the oldest retained), without waiting."""
        ...

    def subscribe(self, *, after: str | None = None) -> AsyncIterator[Delivered]: ...

    async def wait(self, *, after: str, count: int = 100) -> list[Delivered]:
        """Events after ``after``, waiting up to ``BLOCK_SECONDS`` for one (an empty list
        then): one round of ``subscribe``, for a reader that must be able to stop between
        rounds (``datasources.event_fanout``)."""
        ...

    async def last_position(self) -> str:
        """The newest event's position (``"0"`` when there is none): subscribing after it
        yields exactly the events published from now on."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryEvents:
    """One process's broker: what the embedded default (one process, no Redis) needs."""

    name = "memory"

    def __init__(self, *, max_length: int = 10_000) -> None:
        self._events: deque[Delivered] = deque(maxlen=max_length)
        self._published: set[str] = set()
        self._order: deque[str] = deque()
        self._max_length = max_length
        self._next = 1
        self._changed = asyncio.Condition()

    async def publish(self, event: OrderEvent) -> bool:
        if event.id in self._published:
            return False
        self._published.add(event.id)
        self._order.append(event.id)
        while len(self._order) > self._max_length * 2:
            self._published.discard(self._order.popleft())
        self._events.append(Delivered(f"{self._next}-0", event))
        self._next += 1
        async with self._changed:
            self._changed.notify_all()
        return True

    async def read(self, *, after: str, count: int = 100) -> list[Delivered]:
        since = _sequence(after)
        return [item for item in self._events if _sequence(item.position) > since][:count]

    async def subscribe(self, *, after: str | None = None) -> AsyncIterator[Delivered]:
        position = after if after is not None else await self.last_position()
        while True:
            async with self._changed:  # read under the lock, so no publish slips in unseen
                batch = await self.read(after=position)
                if not batch:
                    await self._changed.wait()
                    continue
            for item in batch:
                position = item.position
                yield item

    async def wait(self, *, after: str, count: int = 100) -> list[Delivered]:
        async with self._changed:
            batch = await self.read(after=after, count=count)
            if not batch:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(BLOCK_SECONDS):
                        await self._changed.wait()
                batch = await self.read(after=after, count=count)
        return batch

    async def last_position(self) -> str:
        return f"{self._next - 1}-0"

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._events.clear()


def _sequence(position: str) -> tuple[int, int]:
    major, _, minor = position.partition("-")
    return int(major or 0), int(minor or 0)


#: Publish unless this event id was published before: the check, the entry and the marker in
#: one script, so no crash or race can leave an entry without its marker or the reverse.
_PUBLISH = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return false
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[1])
redis.call('SET', KEYS[2], id, 'EX', ARGV[3])
return id
"""


class RedisEvents:
    """Redis Streams: every replica reads the one stream; publishing is idempotent."""

    name = "redis"

    def __init__(
        self, client: Redis, reader: Redis, *, prefix: str = "manifold:", max_length: int
    ) -> None:
        self._client = client
        #: Blocking reads hold a connection for seconds: their own client and timeouts.
        self._reader = reader
        self._stream = f"{prefix}events:orders"
        self._marker = f"{prefix}events:published:"
        self._max_length = max_length
        self._publish = client.register_script(_PUBLISH)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "manifold:", max_length: int) -> RedisEvents:
        client = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        reader = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=BLOCK_SECONDS + 2.0,
            health_check_interval=30,
        )
        return cls(client, reader, prefix=prefix, max_length=max_length)

    async def publish(self, event: OrderEvent) -> bool:
        entry = await self._publish(
            keys=[self._stream, self._marker + event.id],
            args=[event.to_json(), self._max_length, PUBLISHED_MARKER_SECONDS],
        )
        return entry is not None

    async def read(self, *, after: str, count: int = 100) -> list[Delivered]:
        answer = await self._client.xread({self._stream: after}, count=count)
        return _delivered(answer)

    async def subscribe(self, *, after: str | None = None) -> AsyncIterator[Delivered]:
        position = after if after is not None else await self.last_position()
        while True:
            for item in await self.wait(after=position):
                position = item.position
                yield item

    async def wait(self, *, after: str, count: int = 100) -> list[Delivered]:
        answer = await self._reader.xread(
            {self._stream: after}, count=count, block=int(BLOCK_SECONDS * 1000)
        )
        return _delivered(answer)

    async def last_position(self) -> str:
        newest = await self._client.xrevrange(self._stream, count=1)
        entry_id = newest[0][0] if newest else None
        return START if entry_id is None else _text(entry_id)

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
        await self._reader.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _delivered(answer: Any) -> list[Delivered]:
    items: list[Delivered] = []
    for _stream, entries in answer or ():
        for entry_id, fields in entries:
            raw = fields.get(b"event", fields.get("event"))
            items.append(Delivered(_text(entry_id), OrderEvent.from_json(raw)))
    return items


def create_events(redis_url: str | None, *, prefix: str, max_length: int) -> EventBroker:
    if redis_url:
        return RedisEvents.from_url(redis_url, prefix=prefix, max_length=max_length)
    return MemoryEvents(max_length=max_length)
