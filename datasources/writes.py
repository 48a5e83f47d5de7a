"""What every writer shares: transactions whose outages read as outages, and dialect-aware
``INSERT … ON CONFLICT DO NOTHING``.

A write path must tell the client "the database is unavailable, retry" rather than crash with a
masked error when PostgreSQL refuses or drops the connection, exactly as the read loaders do;
anything else (a constraint we did not expect, a bug) stays a crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from contract.errors import UpstreamError
from datasources.db import DATABASE_FAILURES, Database, is_outage


@asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncConnection]:
    """``database.transaction()``, with a refused or dropped connection as ``UpstreamError``."""
    try:
        async with database.transaction() as connection:
            yield connection
    except DATABASE_FAILURES as error:
        if not is_outage(error):
            raise
        raise _outage(database, error) from None


@asynccontextmanager
async def connect(database: Database) -> AsyncIterator[AsyncConnection]:
    """``database.connect()`` for reads of a write path, outages mapped the same way."""
    try:
        async with database.connect() as connection:
            yield connection
    except DATABASE_FAILURES as error:
        if not is_outage(error):
            raise
        raise _outage(database, error) from None


def _outage(database: Database, error: BaseException) -> UpstreamError:
    database.report_unavailable(error)
    return UpstreamError("the database is unavailable; retry shortly")


def insert_or_nothing(table: Table, dialect: str, conflict: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING``: the loser of a race inserts nothing
    (and, on PostgreSQL, waits for the winner's transaction to end first)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
