"""The relational database handle every query goes through.

``Database`` is deliberately small (``connect`` for reads, ``transaction`` for writes) so tests can
substitute one bound to a single rolled-back connection, and so a later read-replica split
touches only this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from datasources.throttled_log import ThrottledWarning


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder; a fresh checkout has no ``.data/`` yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


logger = logging.getLogger("manifold.database")

#: How long opening a PostgreSQL connection may take before the attempt fails.
CONNECT_TIMEOUT_SECONDS = 5.0

#: What a database call may raise when the server cannot be reached or drops the connection;
#: ``is_outage`` tells those apart from bugs (a missing table is also an ``OperationalError`` on
#: SQLite), which must stay masked crashes.
DATABASE_FAILURES: tuple[type[BaseException], ...] = (DBAPIError, OSError)


def is_outage(error: BaseException) -> bool:
    """A refused or dropped connection: the database is unavailable, the request is fine."""
    if isinstance(error, OSError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False
) -> AsyncEngine:
    """An async engine tuned per dialect: pooled PostgreSQL, or a WAL-mode SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "asyncpg":
        # asyncpg waits 60 s for a server that does not answer; a request has far less.
        connect_args["timeout"] = CONNECT_TIMEOUT_SECONDS
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,  # bound values (emails, subjects) never reach logs or tracebacks
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip on every checkout. A connection the server dropped
        # fails its statement instead, SQLAlchemy invalidates the whole pool on that disconnect,
        # and the loaders retry a read once (``datasources.loaders``).
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Connections for reads and transactions for writes, over one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Reads run in autocommit: each batch is one statement, so a transaction around it would
        # only add BEGIN and ROLLBACK round trips.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._warn = ThrottledWarning(logger)

    def report_unavailable(self, error: BaseException) -> None:
        """Log an outage once a minute, naming the error's type only (its text may carry a
        host or SQL); every request fails alike while it lasts."""
        self._warn("the database is unavailable (%s)", type(error).__name__)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads, in autocommit: one statement is one round trip."""
        async with self._reads.connect() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction, committed on success and rolled back on error."""
        async with self.engine.begin() as connection:
            yield connection

    async def ping(self) -> None:
        async with self.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
