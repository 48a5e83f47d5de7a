"""Deadlines, retries and circuit breakers: how the gateway stays fast when a backend is not.

A slow upstream must cost one field, not the whole response, and a dead one must cost nothing at
all: the deadline bounds every call by what is left of the request, retries spend only what the
deadline leaves, and the breaker stops calling a backend that keeps failing so requests fail in
microseconds instead of waiting out a timeout each.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from contract.errors import UpstreamError

Clock = Callable[[], float]


class Deadline:
    """The moment one request must be answered by; shared by everything that request calls."""

    __slots__ = ("_clock", "expires_at")

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.expires_at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def bound(self, seconds: float) -> float:
        """``seconds``, or less if the request has less left."""
        return min(seconds, self.remaining())


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(UpstreamError):
    """The upstream failed too often lately; calls fail fast until a probe succeeds."""


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    #: Failures within ``window_seconds`` that open the breaker.
    failure_threshold: int = 5
    window_seconds: float = 10.0
    #: How long the breaker stays open before one probe is let through.
    open_seconds: float = 5.0


class CircuitBreaker:
    """One per upstream per process: closed → open on sustained failures → half-open probe.

    Only one probe runs while half-open; other callers fail fast until it reports. Per-process
    state is deliberate: each replica judges the upstream from its own calls, which needs no
    coordination and reacts within one window on every replica.
    """

    def __init__(self, name: str, policy: BreakerPolicy, *, clock: Clock = time.monotonic) -> None:
        self.name = name
        self._policy = policy
        self._clock = clock
        self._failures: deque[float] = deque()
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._policy.open_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def acquire(self) -> bool:
        """Whether this call is the half-open probe; raise ``CircuitOpenError`` if none may go."""
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        raise CircuitOpenError(f"the {self.name} service is unavailable")

    def record_success(self) -> None:
        self._failures.clear()
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        now = self._clock()
        if self._opened_at is not None:
            # A failed probe (or a straggler from before opening) restarts the open period.
            self._opened_at = now
            self._probing = False
            return
        self._failures.append(now)
        while self._failures and now - self._failures[0] > self._policy.window_seconds:
            self._failures.popleft()
        if len(self._failures) >= self._policy.failure_threshold:
            self._opened_at = now
            self._failures.clear()

    def release_probe(self) -> None:
        """A probe that ended without a verdict (cancelled) lets the next caller probe."""
        self._probing = False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries for idempotent reads only, with full-jitter exponential backoff."""

    attempts: int = 3
    base_seconds: float = 0.05
    max_seconds: float = 1.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def backoff(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_seconds * 10)
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not security)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds; HTTP dates are rare from APIs and treated as absent."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
