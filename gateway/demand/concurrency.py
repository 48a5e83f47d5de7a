"""How many operations a process runs at once, and who waits: the overload valve.

Past its saturation point a process only gets slower: every extra request in flight adds
latency to all of them until they miss their deadlines together (at 256 connections one worker
answered in 10 s and timed out with no fault anywhere). So a bounded number run, a bounded
queue waits in arrival order, and the rest are refused at once, in microseconds, before their
bodies are read: a client told 503 and ``Retry-After`` right away can go to another replica,
one held for 10 s cannot.

``AdaptiveLimit`` optionally moves the limit with latency (additive increase while requests
are as fast as the best seen lately, multiplicative decrease when they take twice as long), so
one setting suits cheap and expensive traffic alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class AdaptiveLimit:
    """AIMD on latency against a slowly forgotten minimum (after Netflix's concurrency-limits)."""

    maximum: int
    minimum: int = 1
    #: Latency this many times the baseline counts as congestion.
    tolerance: float = 2.0
    #: Samples after which the baseline is forgotten and measured again.
    window: int = 500
    limit: float = 0.0
    baseline: float = math.inf
    _window_min: float = math.inf
    _samples: int = 0

    def __post_init__(self) -> None:
        self.limit = float(self.maximum)

    def current(self) -> int:
        return max(self.minimum, min(self.maximum, int(self.limit)))

    def observe(self, seconds: float, *, in_flight: int) -> None:
        self._samples += 1
        self._window_min = min(self._window_min, seconds)
        self.baseline = min(self.baseline, seconds)
        if self._samples >= self.window:
            # Latency floors move (a cache warms, a database fails over): re-learn each window.
            self.baseline, self._window_min, self._samples = self._window_min, math.inf, 0
        if seconds > self.tolerance * self.baseline:
            self.limit = max(float(self.minimum), self.limit * 0.9)
        elif in_flight >= self.current() - 1:
            # Grow only when the limit is what holds requests back.
            self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))


class ConcurrencyLimiter:
    """Slots for running operations and a FIFO queue for the next ones; per process.

    ``try_acquire`` takes a free slot; ``acquire`` waits in the queue (if there is room) for at
    most ``wait_seconds``; every acquired slot is given back with ``release``, which hands it
    straight to the first waiter so nothing jumps the queue.
    """

    def __init__(
        self, *, limit: int, max_queue: int, adaptive: AdaptiveLimit | None = None
    ) -> None:
        self._static_limit = limit
        self._max_queue = max_queue
        self.adaptive = adaptive
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        return self.adaptive.current() if self.adaptive is not None else self._static_limit

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def try_acquire(self) -> bool:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return True
        return False

    def can_queue(self) -> bool:
        return len(self._waiters) < self._max_queue

    async def acquire(self, wait_seconds: float) -> bool:
        """Wait for a slot; False when the queue is full or ``wait_seconds`` pass first."""
        if self.try_acquire():
            return True
        if not self.can_queue() or wait_seconds <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(wait_seconds):
                await waiter
        except TimeoutError:
            return self._abandon(waiter)
        except asyncio.CancelledError:
            if self._abandon(waiter):
                self.release()  # granted as we were cancelled: pass the slot on
            raise
        return True

    def _abandon(self, waiter: asyncio.Future[None]) -> bool:
        """Leave the queue; True if the slot had been granted meanwhile (it is ours)."""
        if waiter.done() and not waiter.cancelled():
            return True
        waiter.cancel()
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)
        return False

    def release(self, seconds: float | None = None) -> None:
        if self.adaptive is not None and seconds is not None:
            self.adaptive.observe(seconds, in_flight=self.in_flight)
        while self._waiters and self.in_flight <= self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: in_flight stays as it is
                return
        self.in_flight -= 1
