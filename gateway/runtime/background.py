"""What a gateway process does besides answering requests: publishing the outbox, and the
periodic chores that keep the order tables tidy and no payment stuck.

Each runs as a task of the lifespan, on every replica at once (they share the work, never
duplicate it: the outbox by row claims, the sweep by the provider's idempotency keys), and
stops with the app. A chore that fails is logged and tried again next round; it never takes
the process down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from datasources import outbox, payments
from datasources.throttled_log import ThrottledWarning
from datasources.write_backends import WriteBackends
from resolvers.order_placement import resume_stalled

logger = logging.getLogger("manifold.background")

#: Published events are kept this long in the outbox for inspection.
OUTBOX_RETENTION = timedelta(days=7)


async def housekeeping(writes: WriteBackends) -> None:
    """One round: forget expired idempotency keys, old signatures and published events, and
    resume payments whose placement was interrupted."""
    await writes.idempotency.store.purge_expired()
    await payments.purge_signatures(writes.database)
    await outbox.purge_published(writes.database, older_than=OUTBOX_RETENTION)
    resumed = await resume_stalled(writes)
    if resumed:
        logger.info("resumed %d interrupted payment(s)", resumed)


async def every(seconds: float, chore: Callable[[], Awaitable[None]], name: str) -> None:
    """``chore`` every ``seconds``, the first time after one interval (start-up stays quick)."""
    warn = ThrottledWarning(logger)
    while True:
        await asyncio.sleep(seconds)
        try:
            await chore()
        except Exception as error:
            warn("%s failed (%s); trying again later", name, type(error).__name__)


@asynccontextmanager
async def running(*jobs: Awaitable[None]) -> AsyncIterator[None]:
    """Run ``jobs`` as tasks until the block ends, then cancel and await them."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    async with AsyncExitStack() as stack:

        async def stop() -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        stack.push_async_callback(stop)
        yield
