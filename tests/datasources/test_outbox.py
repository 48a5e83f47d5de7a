"""The outbox publisher: never loses an event when the broker is down, never publishes one
row twice, whether two replicas drain at once (PostgreSQL, SKIP LOCKED) or one process drains
a SQLite file, and a publisher that crashed between publishing and marking is harmless.

These use databases of their own (committed for real, several connections racing) and, for
outages, a Redis of their own that they stop and start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from datasources import outbox as outbox_rows
from datasources.db import Database, create_engine
from datasources.events import START, MemoryEvents, OrderEvent, RedisEvents
from datasources.migrate import upgrade_database
from datasources.outbox import OutboxPublisher
from datasources.tables import outbox
from tests.databases import scratch_postgres
from tests.ordering import order_event
from tests.private_servers import private_redis


class CountingEvents(MemoryEvents):
    """The in-process broker, counting every event offered to it (a second offer of one id
    would be a row published twice)."""

    def __init__(self) -> None:
        super().__init__(max_length=100_000)
        self.offered: list[str] = []

    async def publish(self, event: OrderEvent) -> bool:
        self.offered.append(event.id)
        await asyncio.sleep(0)  # let the other publisher run in between
        return await super().publish(event)


async def write(database: Database, count: int) -> list[OrderEvent]:
    events = [order_event(order_id=n, version=1) for n in range(count)]
    async with database.transaction() as connection:
        for item in events:
            await outbox_rows.append(connection, item)
    return events


async def unpublished(database: Database) -> int:
    async with database.connect() as connection:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int((await connection.execute(query)).scalar_one())


@pytest.fixture
async def postgres() -> AsyncIterator[tuple[Database, Database]]:
    """Two replicas' databases: separate engines on one scratch PostgreSQL database."""
    async with scratch_postgres(migrated=True) as url:
        first, second = Database(create_engine(url)), Database(create_engine(url))
        yield first, second
        await first.dispose()
        await second.dispose()


async def test_two_replicas_draining_at_once_publish_each_row_once(postgres):
    first, second = postgres
    events = await write(first, 300)
    broker = CountingEvents()
    publishers = [OutboxPublisher(db, broker, batch_size=20) for db in (first, second)]

    async def drain(publisher: OutboxPublisher) -> int:
        total = 0
        while published := await publisher.drain_once():
            total += published
        return total

    counts = await asyncio.gather(*(drain(publisher) for publisher in publishers))

    assert sorted(broker.offered) == sorted(item.id for item in events)  # no row offered twice
    assert sum(counts) == 300
    assert all(count > 0 for count in counts)  # both really drained
    assert await unpublished(first) == 0


async def test_a_publisher_that_crashed_after_publishing_is_harmless(postgres):
    database, _ = postgres
    events = await write(database, 5)
    broker = MemoryEvents()
    for item in events[:3]:  # published, then the process died before marking the rows
        await broker.publish(item)

    await OutboxPublisher(database, broker).drain_once()

    assert [item.event.id for item in await broker.read(after=START)] == [
        item.id for item in events[:3]
    ] + [item.id for item in events[3:]]
    assert await unpublished(database) == 0


async def test_events_wait_while_redis_is_down_and_are_published_once_when_it_is_back(
    postgres, redis_prefix
):
    database, _ = postgres
    with private_redis() as redis:
        broker = RedisEvents.from_url(redis.url, prefix=redis_prefix, max_length=10_000)
        publisher = OutboxPublisher(database, broker, poll_seconds=0.05)
        running = asyncio.ensure_future(publisher.run())
        try:
            redis.stop()  # the outage begins
            events = await write(database, 10)
            publisher.wake()
            await asyncio.sleep(0.5)
            assert await unpublished(database) == 10  # nothing lost, nothing marked

            redis.start()  # and ends
            for _ in range(200):
                if await unpublished(database) == 0:
                    break
                await asyncio.sleep(0.05)
            published = await broker.read(after=START, count=100)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await broker.close()

    assert sorted(item.event.id for item in published) == sorted(item.id for item in events)


async def test_a_sqlite_outbox_is_drained_once_by_two_publishers(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}"
    await upgrade_database(url)
    first, second = Database(create_engine(url)), Database(create_engine(url))
    try:
        events = await write(first, 60)
        broker = CountingEvents()

        async def drain(database: Database) -> None:
            publisher = OutboxPublisher(database, broker, batch_size=7)
            while await publisher.drain_once():
                pass

        await asyncio.gather(drain(first), drain(second))

        assert sorted(broker.offered) == sorted(item.id for item in events)
        assert await unpublished(first) == 0
    finally:
        await first.dispose()
        await second.dispose()


async def test_an_idle_sqlite_poll_writes_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'idle.sqlite3'}"
    await upgrade_database(url)
    database = Database(create_engine(url))
    try:
        assert await OutboxPublisher(database, MemoryEvents()).drain_once() == 0
    finally:
        await database.dispose()
