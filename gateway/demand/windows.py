"""Sliding-window budget counters in this process, for a gateway without Redis.

The same arithmetic as the ``limits`` library's sliding-window counter (a window's count, plus
the previous window's weighted by how much of it still overlaps), so a budget behaves the same
with and without Redis; but one synchronous dictionary update per charge, where ``limits``'
asynchronous in-memory storage takes locks and several awaits: on the embedded default that
was a tenth of a small query's whole cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SlidingWindow:
    """One read of a sliding-window counter: the previous and current windows' spending.

    The counter's weighted count is ``previous * (previous_expires_in / window) + current``:
    the previous window's spending fades linearly until the current window ends (which is when
    ``previous_expires_in`` runs out), then the current window becomes the previous one and
    fades in turn. The current window's counter lives for two windows (it is the "previous"
    one during the second), so its own window ends ``current_expires_in - window`` from now.
    """

    window: float
    previous_count: int
    previous_expires_in: float
    current_count: int
    current_expires_in: float

    @property
    def spent(self) -> int:
        weighted = self.previous_count * self.previous_expires_in / self.window
        return math.floor(weighted + self.current_count)

    def seconds_until_affordable(self, *, cost: int, limit: int) -> float:
        """When the counter will have room for ``cost`` more points.

        Solving for the first moment the count plus ``cost`` fits the limit gives a
        ``Retry-After`` that is neither too early (a wasted retry) nor needlessly late.
        """
        room = limit - cost
        if room < 0:
            return math.inf
        if self.current_count <= room:
            if self.previous_count == 0:
                return 0.0
            spare = (room - self.current_count) * self.window / self.previous_count
            return max(0.0, self.previous_expires_in - spare)
        current_ends_in = max(0.0, self.current_expires_in - self.window)
        return current_ends_in + self.window * (1 - room / self.current_count)

    def seconds_until_window_ends(self) -> float:
        """``RateLimit-Reset``: when the current window ends and its spending starts to fade
        (or, with nothing spent in it, when the previous window's has faded); 0 when idle."""
        if self.current_count:
            return max(0.0, self.current_expires_in - self.window)
        if self.previous_count:
            return self.previous_expires_in
        return 0.0


#: Charges between two sweeps of counters whose windows have passed.
_SWEEP_EVERY = 10_000


class MemoryWindows:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, dict[int, int]] = {}
        self._charges = 0

    def charge(self, key: str, *, limit: int, window: int, cost: int) -> tuple[bool, SlidingWindow]:
        """Spend ``cost`` if the window has room; the window as it is after the decision."""
        now = self._clock()
        current = int(now / window)
        counts = self._counts.setdefault(key, {})
        previous_count = counts.get(current - 1, 0)
        current_count = counts.get(current, 0)
        previous_ttl = (
            0.0 if previous_count == 0 else (1 - (((now - window) / window) % 1)) * window
        )
        current_ttl = (1 - ((now / window) % 1)) * window + window
        weighted = previous_count * previous_ttl / window + current_count
        allowed = cost <= 0 or (cost <= limit and math.floor(weighted) + cost <= limit)
        if allowed and cost > 0:
            current_count += cost
            counts[current] = current_count
        self._charges += 1
        if self._charges % _SWEEP_EVERY == 0:
            self._sweep(current)
        return allowed, SlidingWindow(
            float(window), previous_count, previous_ttl, current_count, current_ttl
        )

    def _sweep(self, current: int) -> None:
        for key in [
            key for key, counts in self._counts.items() if max(counts, default=0) < current - 1
        ]:
            del self._counts[key]
        for counts in self._counts.values():
            for index in [index for index in counts if index < current - 1]:
                del counts[index]
