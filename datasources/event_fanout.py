"""One broker read per process, fanned out to every local subscriber through a bounded queue.

A thousand subscribers must not mean a thousand ``XREAD`` loops on Redis: one reader task per
process follows the broker (``datasources.events``) and offers each event to the feeds whose
filter accepts it. Each feed holds at most ``queue_size`` events; a subscriber that falls that
far behind is a *slow consumer*: its feed is failed (``SlowConsumer``) and its transport closes
it with a code, instead of buffering without bound or slowing everyone else down.

When the broker cannot be read (Redis restarting), the reader retries from its last position,
so a short outage loses nothing: Redis Streams keep the entries, and a Redis that restarted
empty numbers new entries after the old ones (entry ids are timestamps). An outage longer than
``outage_grace_seconds`` fails every feed with ``FeedInterrupted``, so subscribers are told
(an error, then complete) rather than silently starved; they may subscribe again.

Nothing here knows GraphQL or a transport: a feed is an async iterator of ``OrderEvent``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from datasources.events import EventBroker, OrderEvent
from datasources.throttled_log import ThrottledWarning

logger = logging.getLogger("manifold.subscriptions")

#: How long the reader waits before reading the broker again after a failure.
RETRY_SECONDS = 0.5

EventFilter = Callable[[OrderEvent], bool]


class FeedClosed(Exception):
    """The feed ended; the base of why."""


class SlowConsumer(FeedClosed):
    """The subscriber fell ``queue_size`` events behind: it is disconnected, not buffered."""


class FeedInterrupted(FeedClosed):
    """The broker was unreachable for longer than the grace: events may have been missed."""


class FeedStopped(FeedClosed):
    """The process is shutting down (or the fan-out closed)."""


@dataclass(slots=True)
class FanoutStats:
    """Counters the metrics read (``gateway.observability``); plain numbers, no exporter here."""

    offered: int = 0
    dropped: int = 0
    interrupted: int = 0
    broker_failures: int = 0


class Feed:
    """One subscriber's bounded queue of the events its filter accepted."""

    __slots__ = ("_accepts", "_capacity", "_closed", "_fanout", "_queue", "_ready")

    def __init__(self, fanout: EventFanout, accepts: EventFilter, capacity: int) -> None:
        self._fanout = fanout
        self._accepts = accepts
        self._capacity = capacity
        self._queue: deque[OrderEvent] = deque()
        self._ready = asyncio.Event()
        self._closed: FeedClosed | None = None

    @property
    def backlog(self) -> int:
        return len(self._queue)

    @property
    def lagging(self) -> bool:
        """Half its queue waiting: the subscriber reads slower than events come."""
        return len(self._queue) * 2 >= self._capacity

    def offer(self, event: OrderEvent) -> bool:
        """Queue ``event`` if the filter accepts it; False when it was dropped (queue full)."""
        if self._closed is not None or not self._accepts(event):
            return True
        if len(self._queue) >= self._capacity:
            self.fail(SlowConsumer(f"more than {self._capacity} events waiting"))
            return False
        self._queue.append(event)
        self._ready.set()
        return True

    def fail(self, reason: FeedClosed) -> None:
        """End the feed: the subscriber's next read raises ``reason`` (queued events are lost
        for a slow consumer, whose connection is closed anyway)."""
        if self._closed is None:
            self._closed = reason
            if not isinstance(reason, FeedStopped):
                self._queue.clear()  # a stopped feed still hands over what it queued
            self._ready.set()
            self._fanout.forget(self)

    @property
    def failure(self) -> FeedClosed | None:
        return self._closed

    def close(self) -> None:
        """The subscriber is done: stop queueing for it."""
        self.fail(FeedStopped("closed"))

    def __aiter__(self) -> Feed:
        return self

    async def __anext__(self) -> OrderEvent:
        while not self._queue:
            if self._closed is not None:
                if isinstance(self._closed, FeedStopped):
                    raise StopAsyncIteration
                raise self._closed
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()


class EventFanout:
    """The process's one reader of the broker, and the feeds it serves."""

    def __init__(
        self,
        broker: EventBroker,
        *,
        queue_size: int = 100,
        outage_grace_seconds: float = 10.0,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.broker = broker
        self.queue_size = queue_size
        self.outage_grace_seconds = outage_grace_seconds
        self.retry_seconds = retry_seconds
        self.stats = FanoutStats()
        self._feeds: set[Feed] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._draining = False
        self._warn = ThrottledWarning(logger)

    @property
    def subscribers(self) -> int:
        return len(self._feeds)

    def lagging(self) -> int:
        return sum(1 for feed in self._feeds if feed.lagging)

    async def start(self) -> None:
        """Start reading from the broker's newest event: feeds made after this miss nothing
        published after it. A broker down at start-up is retried by the reader."""
        if self._task is not None:
            return
        position: str | None = None
        try:
            position = await self.broker.last_position()
        except Exception as error:
            self._warn("the event broker cannot be read at start (%s)", type(error).__name__)
        self._task = asyncio.create_task(self._run(position), name="event fan-out")

    async def close(self) -> None:
        for feed in list(self._feeds):
            feed.fail(FeedStopped("shutting down"))
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # A blocking read may not end at once on cancellation (redis-py can swallow it
            # mid-read); the loop stops at its next round, within BLOCK_SECONDS, or when the
            # broker's connection closes right after this.
            await asyncio.wait([task], timeout=1.0)

    def stop_feeds(self) -> None:
        """End every feed after what it has queued (a draining process): subscribers get
        their in-flight events, then the end of their stream."""
        self._draining = True
        for feed in list(self._feeds):
            feed.fail(FeedStopped("draining"))

    def follow(self, accepts: EventFilter) -> Feed:
        """A feed of the events ``accepts`` lets through, from now on (an ended one once the
        process drains: a subscription racing the drain must not hold it open)."""
        feed = Feed(self, accepts, self.queue_size)
        self._feeds.add(feed)
        if self._draining:
            feed.fail(FeedStopped("draining"))
        return feed

    def forget(self, feed: Feed) -> None:
        self._feeds.discard(feed)

    def dispatch(self, event: OrderEvent) -> None:
        """Offer one event to every feed (the reader calls it; tests may too)."""
        self.stats.offered += 1
        for feed in list(self._feeds):
            if not feed.offer(event):
                self.stats.dropped += 1

    async def _run(self, position: str | None) -> None:
        failing_since: float | None = None
        while not self._stopping:
            try:
                if position is None:
                    position = await self.broker.last_position()
                for item in await self.broker.wait(after=position):
                    position = item.position
                    self.dispatch(item.event)
                failing_since = None
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._stopping:
                    return
                self.stats.broker_failures += 1
                now = time.monotonic()
                failing_since = failing_since or now
                self._warn(
                    "the event broker cannot be read (%s); retrying from the last position",
                    type(error).__name__,
                )
                if now - failing_since >= self.outage_grace_seconds and self._feeds:
                    self._interrupt_all()
                await asyncio.sleep(self.retry_seconds)

    def _interrupt_all(self) -> None:
        for feed in list(self._feeds):
            self.stats.interrupted += 1
            feed.fail(FeedInterrupted("the event broker is unavailable"))
