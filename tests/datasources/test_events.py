"""The event broker: publishing is idempotent by event id, every subscriber sees every event,
and a subscription resumes after any position (Redis Streams and the in-process stand-in)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from datasources.events import START, EventBroker, MemoryEvents, OrderEvent, RedisEvents
from tests.ordering import order_event


@pytest.fixture(params=["memory", "redis"])
async def broker(request, redis_url, redis_prefix) -> AsyncIterator[EventBroker]:
    """Each broker in turn; Redis's on the shared server, under the test's own prefix."""
    made: EventBroker = (
        MemoryEvents(max_length=1000)
        if request.param == "memory"
        else RedisEvents.from_url(redis_url, prefix=redis_prefix, max_length=1000)
    )
    yield made
    await made.close()


async def test_the_in_process_broker_keeps_a_bounded_history():
    broker = MemoryEvents(max_length=3)
    for version in range(1, 6):
        await broker.publish(order_event(version=version))

    assert [item.event.version for item in await broker.read(after=START)] == [3, 4, 5]


def test_an_event_reads_back_as_it_was_written():
    original = order_event()

    assert OrderEvent.from_json(original.to_json()) == original
    assert b'"occurredAt":"2026-12-01T12:00:00Z"' in original.to_json()


async def test_publishing_an_event_twice_delivers_it_once(broker):
    once = order_event()

    assert await broker.publish(once) is True
    assert await broker.publish(once) is False

    assert [item.event for item in await broker.read(after=START)] == [once]


async def test_a_reader_resumes_after_any_position(broker):
    events = [order_event(version=n) for n in (1, 2, 3)]
    for item in events:
        await broker.publish(item)

    first, *_ = await broker.read(after=START)
    rest = await broker.read(after=first.position)

    assert [item.event for item in rest] == events[1:]


async def test_every_subscriber_sees_every_new_event(broker):
    await broker.publish(order_event(version=1))  # before they subscribe: not theirs

    async def collect(n: int) -> list[int]:
        seen = []
        async for item in broker.subscribe():
            seen.append(item.event.version)
            if len(seen) == n:
                return seen
        return seen

    subscribers = [asyncio.ensure_future(collect(2)) for _ in range(2)]
    await asyncio.sleep(0.2)  # both are waiting
    await broker.publish(order_event(version=2))
    await broker.publish(order_event(version=3))

    assert await asyncio.wait_for(asyncio.gather(*subscribers), 10) == [[2, 3], [2, 3]]


async def test_a_subscription_replays_from_a_position_then_follows(broker):
    for version in (1, 2):
        await broker.publish(order_event(version=version))
    (first, _second) = await broker.read(after=START)

    seen = []

    async def follow() -> None:
        async for item in broker.subscribe(after=first.position):
            seen.append(item.event.version)
            if len(seen) == 2:
                return

    following = asyncio.ensure_future(follow())
    await asyncio.sleep(0.1)
    await broker.publish(order_event(version=3))
    await asyncio.wait_for(following, 10)

    assert seen == [2, 3]
