"""Failing fast on a shared store that is down, instead of waiting out its timeout every call.

A hung Redis makes every call wait its socket timeout, one after another, outside any request
deadline. After one failure the store is skipped for a short while: callers treat that exactly
like the failure (a cache miss, an unmetered request), only at once, and one call after the
back-off finds out whether the store is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.exceptions import RedisError

Clock = Callable[[], float]

#: How long a store that just failed is skipped.
BACKOFF_SECONDS = 5.0


class StoreUnavailableError(RedisError):
    """The store failed moments ago; it is being skipped until the back-off ends."""


class Backoff:
    def __init__(
        self, name: str, *, seconds: float = BACKOFF_SECONDS, clock: Clock = time.monotonic
    ) -> None:
        self.name = name
        self._seconds = seconds
        self._clock = clock
        self._down_until = 0.0

    @property
    def skipping(self) -> bool:
        return self._clock() < self._down_until

    def check(self) -> None:
        """Raise ``StoreUnavailableError`` while the store is being skipped."""
        if self.skipping:
            raise StoreUnavailableError(f"{self.name} failed recently; skipped for now")

    def failed(self) -> None:
        self._down_until = self._clock() + self._seconds

    def succeeded(self) -> None:
        self._down_until = 0.0
