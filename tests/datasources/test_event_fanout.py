"""The per-process fan-out over the in-process broker: one reader, bounded feeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from datasources.event_fanout import EventFanout, FeedInterrupted, SlowConsumer
from datasources.events import MemoryEvents, OrderEvent


def event(n: int, user_id: int = 1) -> OrderEvent:
    return OrderEvent(
        id=f"e{n}",
        type="ORDER_PAID",
        order_id=n,
        user_id=user_id,
        version=n,
        status="PAID",
        payment_status="PAID",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def next_of(feed, seconds: float = 2.0):
    async with asyncio.timeout(seconds):
        return await anext(feed)


async def test_every_feed_gets_each_published_event_in_order():
    fanout = EventFanout(MemoryEvents())
    await fanout.start()
    try:
        first, second = fanout.follow(lambda _: True), fanout.follow(lambda _: True)
        for n in (1, 2):
            await fanout.broker.publish(event(n))
        assert [(await next_of(first)).id for _ in range(2)] == ["e1", "e2"]
        assert [(await next_of(second)).id for _ in range(2)] == ["e1", "e2"]
    finally:
        await fanout.close()


async def test_a_feed_receives_only_what_its_filter_accepts():
    fanout = EventFanout(MemoryEvents())
    await fanout.start()
    try:
        mine = fanout.follow(lambda e: e.user_id == 2)
        await fanout.broker.publish(event(1, user_id=1))
        await fanout.broker.publish(event(2, user_id=2))
        assert (await next_of(mine)).id == "e2"
        assert mine.backlog == 0
    finally:
        await fanout.close()


async def test_a_feed_only_sees_events_published_after_it_followed():
    broker = MemoryEvents()
    await broker.publish(event(1))
    fanout = EventFanout(broker)
    await fanout.start()
    try:
        feed = fanout.follow(lambda _: True)
        await broker.publish(event(2))
        assert (await next_of(feed)).id == "e2"
    finally:
        await fanout.close()


async def test_a_slow_consumer_is_failed_instead_of_buffered():
    fanout = EventFanout(MemoryEvents(), queue_size=2)
    feed = fanout.follow(lambda _: True)
    for n in range(3):
        fanout.dispatch(event(n))
    assert fanout.stats.dropped == 1
    assert feed.backlog == 0  # what it held is let go with it
    with pytest.raises(SlowConsumer):
        await next_of(feed)
    assert fanout.subscribers == 0


async def test_half_a_queue_waiting_counts_as_lagging():
    fanout = EventFanout(MemoryEvents(), queue_size=4)
    fanout.follow(lambda _: True)
    fanout.dispatch(event(1))
    assert fanout.lagging() == 0
    fanout.dispatch(event(2))
    assert fanout.lagging() == 1


async def test_a_stopped_feed_hands_over_what_it_queued_then_ends():
    fanout = EventFanout(MemoryEvents())
    feed = fanout.follow(lambda _: True)
    fanout.dispatch(event(1))
    fanout.stop_feeds()
    assert [item.id async for item in feed] == ["e1"]


class _UnreadableBroker(MemoryEvents):
    """A real in-process broker whose reads fail, as Redis does while it is down."""

    async def last_position(self) -> str:
        raise ConnectionError("down")


async def test_a_long_broker_outage_interrupts_the_feeds():
    fanout = EventFanout(_UnreadableBroker(), outage_grace_seconds=0.05, retry_seconds=0.01)
    feed = fanout.follow(lambda _: True)
    await fanout.start()
    try:
        with pytest.raises(FeedInterrupted):
            await next_of(feed)
        assert fanout.stats.broker_failures >= 1
    finally:
        await fanout.close()


async def test_a_feed_made_after_the_drain_ends_at_once():
    fanout = EventFanout(MemoryEvents())
    fanout.stop_feeds()
    feed = fanout.follow(lambda _: True)
    assert [item async for item in feed] == []
    assert fanout.subscribers == 0
