"""Running the Alembic migrations from code, inside the application's event loop.

``upgrade_database`` is awaited from async code (the CLI's ``db upgrade``, the demo, the test
fixtures) where a loop is already running, so ``env.py`` cannot call ``asyncio.run`` there.
Instead we open the async connection here and hand Alembic its sync face through
``AsyncConnection.run_sync`` and ``config.attributes["connection"]`` (Alembic's "connection
sharing" recipe); ``env.py`` then migrates on that connection without touching the loop. This
keeps every asyncpg/aiosqlite connection on the loop that created it, works identically on
both dialects, and needs no extra thread or loop. ``env.py`` still runs its own loop with
``asyncio.run`` when started by the ``alembic`` CLI, where no loop is running.

Both paths open their connection through :func:`migration_connection`, which is where the
per-dialect safety lives:

* PostgreSQL: a session advisory lock, so replicas that start together migrate one at a time
  (the second finds the schema at head and does nothing).
* SQLite: foreign keys off (batch mode rebuilds a table by dropping it, and with enforcement
  on, dropping a parent table cascades into its children), ``BEGIN IMMEDIATE`` issued by
  SQLAlchemy instead of by the ``sqlite3`` module, which would leave DDL outside any
  transaction, so a failed migration rolls back completely and concurrent migrators queue
  instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, pool, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

import migrations
from datasources.db import Database, ensure_sqlite_directory

#: Arbitrary but fixed key for ``pg_advisory_lock``: "Manifold" in ASCII.
_POSTGRES_MIGRATION_LOCK = 0x4D616E69666F6C64

_ALEMBIC_LOCK = threading.Lock()

#: How long a SQLite migrator waits for another one to finish, in seconds.
_SQLITE_LOCK_TIMEOUT = 60.0


def alembic_config(url: str) -> Config:
    """An Alembic configuration that needs no ``alembic.ini``, so it works from a wheel.

    The URL goes into ``attributes`` as given and into the main options with ``%`` escaped,
    because the ini parser would otherwise read a percent-encoded password as interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def head_revision() -> str:
    """The revision this build's code expects the database to be at."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


async def database_revision(database: Database) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    async with database.connect() as connection:
        exists = await connection.run_sync(
            lambda sync: sa_inspect(sync).has_table("alembic_version")
        )
        if not exists:
            return None
        row = (await connection.execute(text("SELECT version_num FROM alembic_version"))).first()
    return None if row is None else str(row[0])


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``; safe to await from a running loop."""
    await _run_command(url, command.upgrade, revision)


async def downgrade_database(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"``: an empty schema)."""
    await _run_command(url, command.downgrade, revision)


async def _run_command(
    url: str, alembic_command: Callable[[Config, str], None], revision: str
) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        alembic_command(config, revision)

    async with _one_alembic_run_per_process():
        await run_with_migration_connection(url, run)


@asynccontextmanager
async def _one_alembic_run_per_process() -> AsyncIterator[None]:
    """Alembic keeps the running migration in module globals (``alembic.context``, ``op``).

    Two commands interleaving on one loop, which ``run_sync`` allows because a command yields
    at every query, would overwrite each other's; so one at a time per process, whatever the
    loop or thread. Polling keeps the wait cancellable and off the loop's thread.
    """
    while not _ALEMBIC_LOCK.acquire(blocking=False):  # noqa: ASYNC110 (shared with threads)
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        _ALEMBIC_LOCK.release()


def create_migration_engine(url: str) -> AsyncEngine:
    """A single-use engine configured for schema changes rather than for serving requests."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_async_engine(url, poolclass=pool.NullPool)
    ensure_sqlite_directory(url)
    engine = create_async_engine(
        url, poolclass=pool.NullPool, connect_args={"timeout": _SQLITE_LOCK_TIMEOUT}
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (see the module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@asynccontextmanager
async def migration_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection on which at most one migrator per database runs at a time.

    No transaction is open when it is yielded: Alembic starts and commits its own, which keeps
    ``op.get_context().autocommit_block()`` available to future migrations.
    """
    async with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            yield connection
            return
        await connection.execute(
            text("SELECT pg_advisory_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
        )
        await connection.commit()
        try:
            yield connection
        finally:
            await connection.rollback()
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
            )
            await connection.commit()


async def run_with_migration_connection(url: str, migrate: Callable[[Connection], None]) -> None:
    """Run ``migrate`` on a fresh migration connection; for ``env.py`` under the CLI."""
    engine = create_migration_engine(url)
    try:
        async with migration_connection(engine) as connection:
            await connection.run_sync(migrate)
    finally:
        await engine.dispose()
