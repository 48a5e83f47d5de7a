"""The transactional outbox: events written with the change they describe, published after.

A state change and its event are one transaction (``append`` takes the writer's connection), so
no change is ever without its event and no event without its change. ``OutboxPublisher`` then
hands waiting rows to the broker and marks them published:

* **Never lost.** A row is marked only after the broker took it; when the broker (Redis) is
  down, the transaction rolls back, the rows wait, and the publisher retries with back-off.
* **Never published twice from one row.** On PostgreSQL each publisher claims its rows with
  ``SELECT … FOR UPDATE SKIP LOCKED``, so two replicas draining at once take different rows;
  on SQLite (one writer at a time) a row is claimed by an ``UPDATE`` that sets a short lease.
  A publisher that crashes after publishing but before marking leaves its rows to be published
  again, and the broker's publish is idempotent by event id, so subscribers still see each once.

Published rows are kept a while for inspection (``purge_published``); the broker's stream is
what subscribers replay from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.db import Database
from datasources.events import EventBroker, OrderEvent
from datasources.tables import outbox, utc_now
from datasources.throttled_log import ThrottledWarning
from datasources.writes import transaction

logger = logging.getLogger("manifold.outbox")

TOPIC_ORDERS = "orders"
#: How long a SQLite claim holds its rows: far longer than publishing a batch takes.
SQLITE_CLAIM_SECONDS = 30.0
#: The longest pause between attempts while the broker is down.
MAX_BACKOFF_SECONDS = 30.0


async def append(connection: AsyncConnection, event: OrderEvent) -> None:
    """Write ``event`` in the caller's transaction, with the change it describes."""
    await connection.execute(
        outbox.insert().values(
            event_id=event.id,
            topic=TOPIC_ORDERS,
            order_id=event.order_id,
            user_id=event.user_id,
            version=event.version,
            type=event.type,
            payload=event.to_json().decode(),
            created_at=event.occurred_at,
        )
    )


class OutboxPublisher:
    """Drains the outbox into the broker; one per process, safe on every replica at once."""

    def __init__(
        self,
        database: Database,
        broker: EventBroker,
        *,
        batch_size: int = 100,
        poll_seconds: float = 1.0,
    ) -> None:
        self.database = database
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._warn = ThrottledWarning(logger)

    def wake(self) -> None:
        """Something was just written: publish now rather than at the next poll."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Publish one batch of waiting events; the number published (0: nothing waits)."""
        if self.database.dialect == "postgresql":
            return await self._drain_locked()
        return await self._drain_leased()

    async def _drain_locked(self) -> int:
        async with transaction(self.database) as connection:
            rows = (
                await connection.execute(
                    select(outbox.c.id, outbox.c.payload)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self._publish([row.payload for row in rows])
            await self._mark(connection, [row.id for row in rows])
        return len(rows)

    async def _drain_leased(self) -> int:
        now = utc_now()
        async with transaction(self.database) as connection:
            # A read first: an idle poll must not take SQLite's write lock every second.
            waiting_any = await connection.execute(
                select(outbox.c.id).where(outbox.c.published_at.is_(None)).limit(1)
            )
            if waiting_any.first() is None:
                return 0
        waiting = (
            select(outbox.c.id)
            .where(
                outbox.c.published_at.is_(None),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        async with transaction(self.database) as connection:
            claimed = (
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(waiting))
                    .values(claimed_until=now + timedelta(seconds=SQLITE_CLAIM_SECONDS))
                    .returning(outbox.c.id, outbox.c.payload)
                )
            ).all()
        if not claimed:
            return 0
        rows = sorted(claimed, key=lambda row: row.id)
        await self._publish([row.payload for row in rows])
        async with transaction(self.database) as connection:
            await self._mark(connection, [row.id for row in rows])
        return len(rows)

    async def _publish(self, payloads: Sequence[str]) -> None:
        for payload in payloads:
            await self.broker.publish(OrderEvent.from_json(payload))

    @staticmethod
    async def _mark(connection: AsyncConnection, ids: list[int]) -> None:
        await connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(published_at=utc_now(), claimed_until=None)
        )

    async def run(self) -> None:
        """Drain until cancelled: at once after ``wake``, else every ``poll_seconds``, backing
        off while the broker or the database is down. The first look is one poll after start,
        so starting costs nothing."""
        failures = 0
        await self._idle()
        while True:
            self._wake.clear()
            try:
                published = await self.drain_once()
            except Exception as error:  # the rows wait; say so once a minute, not per attempt
                failures += 1
                self._warn("could not publish order events (%s); retrying", type(error).__name__)
                pause = min(self.poll_seconds * 2**failures, MAX_BACKOFF_SECONDS)
                await asyncio.sleep(pause)
                continue
            failures = 0
            if published < self.batch_size:  # else more are waiting: go on at once
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)


async def purge_published(database: Database, *, older_than: timedelta, limit: int = 1000) -> int:
    """Forget events published long ago; returns how many."""
    cutoff = utc_now() - older_than
    old = (
        select(outbox.c.id)
        .where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
        .limit(limit)
    )
    async with transaction(database) as connection:
        ids = list((await connection.execute(old)).scalars())
        if ids:
            await connection.execute(delete(outbox).where(outbox.c.id.in_(ids)))
    return len(ids)
