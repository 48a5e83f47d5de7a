"""A throw-away PostgreSQL database per run, so a benchmark never reads or leaves stale rows.

The run creates ``manifold_bench_<random>`` on the server named by the URL, migrates and seeds
it, and drops it afterwards even when the run fails, so the server is left as it was found.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

CONNECT_TIMEOUT_SECONDS = 5.0


class DatabaseUnavailableError(Exception):
    """The server cannot be reached or refuses to create a database; the run cannot start."""


def _admin_engine(url: URL) -> AsyncEngine:
    # CREATE/DROP DATABASE cannot run inside a transaction, hence AUTOCOMMIT; NullPool so that
    # no idle connection outlives the run.
    return create_async_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseUnavailableError(f"not a database URL: {url!r}") from error
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() != "asyncpg":
        raise DatabaseUnavailableError(
            f"the benchmark needs a postgresql+asyncpg:// URL, got {parsed.drivername}://"
        )
    return parsed


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """Create a fresh database next to the one ``server_url`` names; yield its URL; drop it."""
    server = _parse(server_url)
    name = f"manifold_bench_{secrets.token_hex(4)}"
    admin = _admin_engine(server)
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except (OSError, TimeoutError, SQLAlchemyError) as error:
            where = server.render_as_string(hide_password=True)
            # The driver's own message, without SQLAlchemy's wrapping and help link.
            cause = error.orig if isinstance(error, DBAPIError) and error.orig else error
            raise DatabaseUnavailableError(
                f"cannot create a database on {where}: {type(cause).__name__}: {cause}"
            ) from error
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                # FORCE: a gateway killed mid-query may leave a backend behind for a moment.
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
