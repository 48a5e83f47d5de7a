"""The relational database handle every query goes through.

``Database`` is deliberately small (``connect`` for reads, ``transaction`` for writes) so tests can
substitute one bound to a single rolled-back connection, and so a later read-replica split
touches only this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from datasources.throttled_log import ThrottledWarning


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder; a fresh checkout has no ``.data/`` yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


logger = logging.getLogger("manifold.database")

#: How long a graceful close (PostgreSQL's Terminate message) may take. A live server answers in
#: a millisecond; a frozen one never does, and without a bound every cancelled query, pool reset
#: and shutdown would wait on it (asyncpg's own close has no timeout, SQLAlchemy's is 2 s).
CLOSE_TIMEOUT_SECONDS = 0.25
#: How long ``Database.dispose`` may take in all before the remaining connections are dropped.
DISPOSE_TIMEOUT_SECONDS = 2.0

#: SQLSTATE classes and codes that mean "the server cannot serve now", not "the query is wrong":
#: connection exceptions (08), insufficient resources (53: too many connections, out of
#: memory), operator intervention (57P01 admin shutdown, 57P02 crash, 57P03 starting up), and
#: a read-only transaction after a failover to a standby (25006).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P")
_UNAVAILABLE_SQLSTATES = frozenset({"25006"})
#: ``statement_timeout`` cancelled the query (57014): the database did not answer in time.
_TIMEOUT_SQLSTATE = "57014"

#: What a database call may raise when the server cannot be reached, drops the connection or
#: does not answer in time; ``is_outage`` tells those apart from bugs (a missing table is also an
#: ``OperationalError`` on SQLite), which must stay masked crashes. ``TimeoutError`` is asyncpg's
#: ``command_timeout``; ``PoolTimeoutError`` a pool checkout that waited too long.
DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    DBAPIError,
    OSError,
    TimeoutError,
    PoolTimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Bounds on every way the database can make a caller wait.

    ``statement_seconds`` is sent to the server as ``statement_timeout`` (it cancels its own
    slow queries) and is asyncpg's ``command_timeout`` (the client gives up on a server that
    does not answer at all). Each request's deadline bounds its queries more tightly still.
    ``None`` leaves statements unbounded: the CLI's migrations and seeding may run long.
    """

    connect_seconds: float = 5.0
    statement_seconds: float | None = None
    pool_seconds: float = 30.0


def _sqlstate(error: BaseException) -> str | None:
    for candidate in (error, getattr(error, "orig", None), error.__cause__):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def is_timeout(error: BaseException) -> bool:
    """The database did not answer in time: a pool checkout, a command or statement timeout."""
    if isinstance(error, TimeoutError | PoolTimeoutError):
        return True
    if isinstance(error, DBAPIError) and isinstance(error.orig, TimeoutError):
        return True
    return _sqlstate(error) == _TIMEOUT_SQLSTATE


def is_outage(error: BaseException) -> bool:
    """The database is unavailable or too slow, and the request is fine: a refused, dropped or
    starting-up server, a server out of connections, or a timeout."""
    if isinstance(error, OSError) or is_timeout(error):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        return True  # asyncpg's "connection is closed" and friends, raised outside SQLAlchemy
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error.orig, OSError | asyncpg.InterfaceError):
            return True
    state = _sqlstate(error)
    return state is not None and (
        state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES) or state in _UNAVAILABLE_SQLSTATES
    )


class BoundedCloseConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection whose graceful close gives up quickly and aborts the socket.

    Closing is what SQLAlchemy does to a connection whose query was cancelled by a deadline, and
    what ``dispose`` does at shutdown: against a frozen server each would otherwise wait for an
    answer that never comes.
    """

    async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg's
        bound = CLOSE_TIMEOUT_SECONDS if timeout is None else min(timeout, CLOSE_TIMEOUT_SECONDS)
        with contextlib.suppress(TimeoutError):  # asyncpg has aborted the connection by then
            await super().close(timeout=bound)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    echo: bool = False,
    timeouts: DatabaseTimeouts | None = None,
) -> AsyncEngine:
    """An async engine tuned per dialect: pooled PostgreSQL, or a WAL-mode SQLite file."""
    timeouts = timeouts or DatabaseTimeouts()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "asyncpg":
        # asyncpg waits 60 s for a server that does not answer; a request has far less.
        connect_args["timeout"] = timeouts.connect_seconds
        connect_args["connection_class"] = BoundedCloseConnection
        if timeouts.statement_seconds is not None:
            connect_args["command_timeout"] = timeouts.statement_seconds
            connect_args["server_settings"] = {
                "statement_timeout": str(max(1, int(timeouts.statement_seconds * 1000)))
            }
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
        pool_timeout=timeouts.pool_seconds,
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
        """Close the pool within a bound: a frozen server must not hold the process's exit."""
        try:
            async with asyncio.timeout(DISPOSE_TIMEOUT_SECONDS):
                await self.engine.dispose()
        except TimeoutError:
            logger.warning("the database did not close its connections in time; dropping them")
