"""Databases of a test's own, committed for real: for what a rolled-back transaction cannot
show (several processes, several connections racing, what an empty database does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from datasources.migrate import upgrade_database
from tests.services import scratch_database


@asynccontextmanager
async def scratch_postgres(
    *, migrated: bool = False, prefix: str = "manifold_scratch"
) -> AsyncIterator[str]:
    """A new PostgreSQL database (empty, or migrated to head), dropped afterwards."""
    async with scratch_database(prefix) as url:
        if migrated:
            await upgrade_database(url)
        yield url
