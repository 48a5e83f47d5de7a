"""Budgets without Redis: in-process sliding windows, the same arithmetic as ``limits``'."""

from __future__ import annotations

import random

import pytest
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from gateway.demand.windows import MemoryWindows

WINDOW = 60


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_charges_are_allowed_until_the_budget_is_spent():
    windows = MemoryWindows(clock=Clock(1_000_020.0))
    results = [windows.charge("k", limit=10, window=WINDOW, cost=4)[0] for _ in range(3)]
    assert results == [True, True, False]


def test_a_refused_charge_spends_nothing():
    windows = MemoryWindows(clock=Clock(1_000_020.0))
    windows.charge("k", limit=10, window=WINDOW, cost=8)
    refused, _ = windows.charge("k", limit=10, window=WINDOW, cost=5)
    allowed, window = windows.charge("k", limit=10, window=WINDOW, cost=2)
    assert (refused, allowed, window.spent) == (False, True, 10)


def test_the_previous_windows_spending_fades_as_the_window_slides():
    clock = Clock(1_000_020.0)
    windows = MemoryWindows(clock=clock)
    windows.charge("k", limit=10, window=WINDOW, cost=10)
    clock.now += WINDOW * 1.5  # half of the previous window still overlaps the current one
    _, window = windows.charge("k", limit=10, window=WINDOW, cost=0)
    assert 0 < window.spent < 10


def test_keys_have_budgets_of_their_own():
    windows = MemoryWindows(clock=Clock(1_000_020.0))
    windows.charge("a", limit=5, window=WINDOW, cost=5)
    assert windows.charge("b", limit=5, window=WINDOW, cost=5)[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_decisions_match_the_limits_librarys_memory_storage(monkeypatch, seed):
    rng = random.Random(seed)
    clock = Clock(1_700_000_000.0 + rng.random() * WINDOW)
    monkeypatch.setattr("limits.aio.storage.memory.time.time", clock)
    storage = MemoryStorage()
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = RateLimitItemPerSecond(50, WINDOW, namespace="cost")
    windows = MemoryWindows(clock=clock)

    for _ in range(200):
        clock.now += rng.random() * 3
        cost = rng.randint(1, 12)
        theirs = await limiter.hit(item, "key", cost=cost)
        counts = await storage.get_sliding_window(item.key_for("key"), WINDOW)
        ours, window = windows.charge(item.key_for("key"), limit=50, window=WINDOW, cost=cost)
        assert ours == theirs
        assert (window.previous_count, window.current_count) == (counts[0], counts[2])
