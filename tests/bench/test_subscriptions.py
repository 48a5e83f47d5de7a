"""The subscriptions benchmark (``bench.subscriptions``), bounded: every subscriber receives
every event of a burst, in order per order; and how the delivery figures count what went wrong.
No timing is asserted: the figures are the benchmark's to report, not a test's to judge."""

from __future__ import annotations

import pytest

from bench.database import DatabaseUnavailableError
from bench.subscribers import Received, summarize
from bench.subscriptions import SubscriptionOptions, run
from tests.services import DATABASE_URL, require_or_skip


def received(*events: tuple[str, int]) -> Received:
    """A subscriber's events, (order, version) each, received 5 ms after they happened."""
    return Received(events=[(10.005, 10.0, order, version) for order, version in events])


def test_a_subscriber_with_every_event_in_order_is_complete():
    summary = summarize([received(("A", 1), ("B", 1), ("A", 2))], expected=3)

    assert summary["delivered"] == summary["expected"] == 3
    assert summary["complete_subscribers"] == 1
    assert summary["out_of_order"] == summary["duplicates"] == 0
    assert summary["latency_ms"]["p50"] == pytest.approx(5.0)


def test_an_orders_older_version_after_a_newer_one_is_out_of_order():
    summary = summarize([received(("A", 2), ("B", 1), ("A", 1))], expected=3)

    assert summary["out_of_order"] == 1


def test_an_orders_version_received_twice_is_a_duplicate():
    summary = summarize([received(("A", 1), ("A", 1))], expected=1)

    assert summary["duplicates"] == 1
    assert summary["complete_subscribers"] == 0


def test_a_missed_event_shows_as_fewer_delivered_than_expected():
    summary = summarize([received(("A", 1), ("B", 1)), received(("A", 1))], expected=2)

    assert (summary["delivered"], summary["expected"]) == (3, 4)
    assert summary["complete_subscribers"] == 1


@pytest.mark.slow
@pytest.mark.postgres
async def test_every_subscriber_receives_every_event_of_a_burst_in_order_per_order():
    options = SubscriptionOptions(
        database_url=DATABASE_URL, redis_url=None, subscribers=100, updates=20
    )
    try:
        report = await run(options)
    except DatabaseUnavailableError as error:
        require_or_skip(f"PostgreSQL is unavailable: {error}")

    delivery = report.delivery
    assert delivery["errors"] == 0, delivery["first_errors"]
    assert (delivery["delivered"], delivery["expected"]) == (2000, 2000)
    assert delivery["complete_subscribers"] == 100
    assert delivery["out_of_order"] == delivery["duplicates"] == 0
    assert report.all_delivered_in_order
    assert report.rss_kib_per_idle_connection > 0
