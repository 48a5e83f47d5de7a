"""The budget window itself, on real Redis: when refused points come back, and how soon."""

from __future__ import annotations

import asyncio
import time

import pytest

from auth.principal import Principal, PrincipalKind
from gateway.demand.budgets import Budgets
from gateway.demand.cost import CostModel
from gateway.demand.windows import SlidingWindow
from schema.budget import BudgetStatus, format_reset_at

ALICE = Principal(PrincipalKind.USER, "alice")


async def charge(budgets: Budgets, cost: int) -> BudgetStatus:
    status = await budgets.charge(ALICE, None, cost)
    assert status is not None
    return status


@pytest.fixture
async def budgets(redis_url: str, redis_prefix: str):
    budgets = Budgets(
        redis_url=redis_url,
        prefix=redis_prefix,
        default_budget=2,
        window_seconds=1,
        max_cost=100,
        model=CostModel(),
    )
    yield budgets
    await budgets.close()


async def test_a_refused_charge_fits_once_its_retry_after_has_passed(budgets: Budgets):
    assert (await charge(budgets, 1)).allowed
    assert (await charge(budgets, 1)).allowed
    refused = await charge(budgets, 1)
    assert not refused.allowed
    assert 0 < refused.retry_after <= 1.5

    await asyncio.sleep(refused.retry_after + 0.05)

    assert (await charge(budgets, 1)).allowed


async def test_a_refused_charge_spends_nothing(budgets: Budgets):
    await charge(budgets, 2)
    refused = await charge(budgets, 1)

    assert not refused.allowed
    assert refused.remaining == 0
    assert (await charge(budgets, 0)).remaining == 0


@pytest.mark.parametrize(
    ("previous", "previous_expires_in", "current", "current_expires_in", "expected"),
    [
        # nothing spent: now
        (0, 0, 0, 0, 0.0),
        # current window full (42 of 50, 21 wanted): it ends in 60 s, then fades to 29 points
        (0, 0, 42, 120, 60 + 60 * (1 - 29 / 42)),
        # the previous window's 40 points fade; 10 spent now: room for 21 when 40 x w <= 19
        (40, 30, 10, 90, 30 - 19 * 60 / 40),
        # the previous window has already faded enough
        (10, 30, 10, 90, 0.0),
    ],
)
def test_retry_after_is_when_the_sliding_window_has_room(
    previous: int, previous_expires_in: float, current: int, current_expires_in: float, expected
):
    wait = SlidingWindow(
        window=60,
        previous_count=previous,
        previous_expires_in=previous_expires_in,
        current_count=current,
        current_expires_in=current_expires_in,
    ).seconds_until_affordable(cost=21, limit=50)

    assert wait == pytest.approx(expected)


def test_an_operation_larger_than_the_budget_never_fits():
    assert SlidingWindow(
        window=60,
        previous_count=0,
        previous_expires_in=0,
        current_count=0,
        current_expires_in=0,
    ).seconds_until_affordable(cost=51, limit=50) == float("inf")


async def test_the_reset_is_when_the_current_window_ends(budgets: Budgets):
    idle = await charge(budgets, 0)
    spent = await charge(budgets, 1)

    assert idle.reset_at == pytest.approx(time.time(), abs=0.5)
    assert 0.5 < spent.reset_at - time.time() <= 1.0


@pytest.mark.parametrize(
    ("reset_at", "shown"),
    [
        (1795471200.000005, "2026-11-23T22:00:00Z"),  # timer noise past a whole second
        (1795471199.999995, "2026-11-23T22:00:00Z"),
        (1795471200.4, "2026-11-23T22:00:01Z"),  # rounded up: never before the window ends
    ],
)
def test_reset_at_is_shown_as_a_whole_utc_second(reset_at: float, shown: str):
    assert format_reset_at(reset_at) == shown
