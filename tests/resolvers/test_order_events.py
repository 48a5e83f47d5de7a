"""Who receives which order event (pure: decided per event without a query)."""

from __future__ import annotations

from datetime import UTC, datetime

from datasources.events import OrderEvent
from resolvers.order_events import OrderWatch


def event(order_id: int = 1, user_id: int = 10) -> OrderEvent:
    return OrderEvent(
        id="e",
        type="ORDER_PAID",
        order_id=order_id,
        user_id=user_id,
        version=2,
        status="PAID",
        payment_status="PAID",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_customer_sees_their_own_orders_events():
    assert OrderWatch(sees_all=False, viewer_id=10).sees(event(user_id=10))


def test_a_customer_never_sees_another_customers_events():
    assert not OrderWatch(sees_all=False, viewer_id=10).sees(event(user_id=11))


def test_watching_another_customers_order_id_shows_nothing():
    watch = OrderWatch(sees_all=False, viewer_id=10, order_id=5)
    assert not watch.sees(event(order_id=5, user_id=11))


def test_watching_one_order_skips_the_others():
    watch = OrderWatch(sees_all=False, viewer_id=10, order_id=5)
    assert watch.sees(event(order_id=5))
    assert not watch.sees(event(order_id=6))


def test_staff_see_every_customers_events():
    assert OrderWatch(sees_all=True, viewer_id=None).sees(event(user_id=99))


def test_a_caller_without_a_user_sees_nothing():
    assert not OrderWatch(sees_all=False, viewer_id=None).sees(event())
