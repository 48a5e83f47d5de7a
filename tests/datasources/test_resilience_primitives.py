"""The breaker, backoff, deadline and Cache-Control rules, on a clock the test controls."""

from __future__ import annotations

import pytest

from datasources.resilience import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    Deadline,
    RetryPolicy,
    parse_retry_after,
)
from datasources.upstream import cache_max_age


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, **policy) -> CircuitBreaker:
    defaults = {"failure_threshold": 3, "window_seconds": 10.0, "open_seconds": 5.0}
    return CircuitBreaker("content", BreakerPolicy(**(defaults | policy)), clock=clock)


def test_failures_below_the_threshold_keep_the_breaker_closed(clock):
    subject = breaker(clock)
    subject.record_failure()
    subject.record_failure()

    assert subject.state is BreakerState.CLOSED
    assert subject.acquire() is False


def test_failures_spread_wider_than_the_window_do_not_open_it(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
        clock.now += 6

    assert subject.state is BreakerState.CLOSED


def test_the_threshold_within_the_window_opens_it_and_calls_fail_fast(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()

    assert subject.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError):
        subject.acquire()


def test_after_the_open_period_exactly_one_probe_goes_out(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5

    assert subject.acquire() is True
    with pytest.raises(CircuitOpenError):
        subject.acquire()


def test_a_successful_probe_closes_it(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    subject.acquire()

    subject.record_success()

    assert subject.state is BreakerState.CLOSED


def test_a_failed_probe_opens_it_for_another_period(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    subject.acquire()

    subject.record_failure()

    states = [subject.state]
    clock.now += 4.9
    states.append(subject.state)
    clock.now += 0.1
    states.append(subject.state)
    assert states == [BreakerState.OPEN, BreakerState.OPEN, BreakerState.HALF_OPEN]


def test_a_cancelled_probe_lets_the_next_caller_probe(clock):
    subject = breaker(clock)
    for _ in range(3):
        subject.record_failure()
    clock.now += 5
    subject.acquire()

    subject.release_probe()

    assert subject.acquire() is True


def test_the_deadline_counts_down_and_bounds_timeouts(clock):
    deadline = Deadline(2.0, clock=clock)
    clock.now += 1.5

    assert deadline.remaining() == pytest.approx(0.5)
    assert deadline.bound(3.0) == pytest.approx(0.5)
    assert not deadline.expired
    clock.now += 1
    assert deadline.expired
    assert deadline.remaining() == 0


def test_backoff_is_jittered_below_an_exponential_ceiling():
    policy = RetryPolicy(base_seconds=0.1, max_seconds=1.0)

    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (6, 1.0)]:
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(0 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1


def test_retry_after_overrides_the_backoff():
    assert RetryPolicy().backoff(1, retry_after=2.0) == 2.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 0 ", 0.0), ("-1", None), ("Wed, 21 Oct 2026", None), (None, None)],
)
def test_retry_after_is_read_in_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=60", 60.0),
        ("public, max-age=30", 30.0),
        ("s-maxage=10, max-age=60", 10.0),
        ("no-store", 0.0),
        ("private, max-age=60", 0.0),
        ("public", None),
        (None, None),
    ],
)
def test_cache_control_gives_the_cache_lifetime(header, seconds):
    assert cache_max_age(header) == seconds
