"""Alembic's environment: where the URL comes from and how migrations meet a connection.

Called two ways. ``datasources.migrate.upgrade_database`` hands over a sync connection in
``config.attributes["connection"]`` from inside the application's event loop, so nothing here
may start a loop. The ``alembic`` CLI hands over nothing, so we run our own loop; both paths
get their connection from ``datasources.migrate`` and so share its locking and SQLite setup.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection, Mapping
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from datasources.migrate import run_with_migration_connection
from datasources.tables import metadata

config = context.config


def database_url() -> str:
    """Programmatic URL first, then ``-x url=...``, then the ini, then the environment."""
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("GATEWAY_DATABASE_URL")
    )
    if not url:
        raise RuntimeError(
            "no database URL: set GATEWAY_DATABASE_URL or pass `alembic -x url=...`; "
            "`gateway db upgrade` also knows the embedded SQLite default"
        )
    return str(url)


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    applied: list[str] = []

    def note_applied(  # Alembic passes these by keyword
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        applied.append(step.up_revision_id or "")

    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters most things by rebuilding the table; batch mode does that for us.
        render_as_batch=is_sqlite,
        # The migration engine makes SQLite DDL transactional: one failed step undoes all.
        transactional_ddl=True,
        compare_type=True,
        on_version_apply=note_applied,
    )
    with context.begin_transaction():
        context.run_migrations()
        if is_sqlite and applied:
            # Foreign keys are off while migrating (a batch rebuild would cascade otherwise),
            # so check afterwards, before commit, as SQLite's own ALTER TABLE guide says to.
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"migration left foreign key violations: {violations[:10]}")


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: write the DDL out instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
    else:
        asyncio.run(run_with_migration_connection(database_url(), run_migrations))


# Only the CLI has an ini file; called from code, the application's logging stays as it is.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
