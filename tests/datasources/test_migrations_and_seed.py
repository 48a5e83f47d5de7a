"""Specifications of the migrations and the seed data, on SQLite and on PostgreSQL.

These tests make their own databases (fresh SQLite files, uniquely named PostgreSQL databases
dropped afterwards) because what they check is what happens to an empty database.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from datasources.db import create_engine
from datasources.migrate import alembic_config, downgrade_database, upgrade_database
from datasources.tables import OrderStatus, metadata, order_lines, orders, users
from demo.catalog import CURRENCY, PRODUCT_COUNT, product_price
from demo.seed import FIRST_USER_SUBJECT, SeedReport, seed_database, user_subject
from tests.databases import scratch_postgres

REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
SMALL = {"users": 20, "orders_per_user": 3, "as_of": AS_OF}


# --- helpers ---------------------------------------------------------------------------------


def sqlite_url(directory: Path, name: str = "manifold") -> str:
    return f"sqlite+aiosqlite:///{directory / f'{name}.sqlite3'}"


async def schema_diff(url: str) -> list[Any]:
    """What autogenerate would still have to do to make the database match ``metadata``."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "compare_server_default": True}
                    ),
                    metadata,
                )
            )
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def _normalized(value: Any) -> Any:
    # SQLite hands timestamps back without a zone; the seeder stored them in UTC.
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


async def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every seeded row, in id order, comparable across dialects."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: [
                    tuple(_normalized(value) for value in row)
                    for row in await connection.execute(select(table).order_by(table.c.id))
                ]
                for table in (users, orders, order_lines)
            }
    finally:
        await engine.dispose()


async def seed(url: str, **arguments: Any) -> SeedReport:
    engine = create_engine(url)
    try:
        return await seed_database(engine, **arguments)
    finally:
        await engine.dispose()


def assert_consistent(rows: dict[str, list[tuple[Any, ...]]], *, users_count: int) -> None:
    """The invariants every seeded database keeps, whatever its size."""
    user_rows, order_rows, line_rows = rows["users"], rows["orders"], rows["order_lines"]
    assert [row[0] for row in user_rows] == list(range(1, users_count + 1))
    assert user_rows[0][1] == FIRST_USER_SUBJECT == user_subject(1)
    emails = [row[3] for row in user_rows]
    assert len(set(emails)) == len(emails)
    assert all(email == email.lower() and email.endswith("@example.com") for email in emails)

    lines_by_order: dict[int, list[tuple[Any, ...]]] = {}
    for line in line_rows:
        _, order_id, content_id, quantity, unit_price = line
        assert 1 <= content_id <= PRODUCT_COUNT
        assert unit_price == product_price(content_id)
        assert quantity >= 1
        lines_by_order.setdefault(order_id, []).append(line)

    signed_up = {row[0]: row[4] for row in user_rows}
    for order_id, number, user_id, status, currency, total, placed_at, *_ in order_rows:
        lines = lines_by_order[order_id]
        assert 1 <= len(lines) <= 4
        assert total == sum((line[3] * line[4] for line in lines), Decimal(0))
        assert currency == CURRENCY
        assert number.startswith(f"MF-{user_id:06d}-")
        assert AS_OF - timedelta(days=365) <= placed_at <= AS_OF
        assert signed_up[user_id] < placed_at
        assert isinstance(status, OrderStatus)
    assert len(lines_by_order) == len(order_rows)
    assert {row[3] for row in order_rows} == set(OrderStatus)


# --- migrations ------------------------------------------------------------------------------


async def test_upgrade_of_a_fresh_sqlite_file_matches_the_tables(tmp_path):
    url = sqlite_url(tmp_path)

    await upgrade_database(url)
    await upgrade_database(url)  # already at head: nothing to do

    assert await schema_diff(url) == []
    assert await table_names(url) == {
        "alembic_version",
        "users",
        "orders",
        "order_lines",
        "api_keys",
        "payments",
        "idempotency_keys",
        "webhook_events",
        "webhook_signatures",
        "outbox",
    }


async def test_concurrent_upgrades_of_one_sqlite_file_take_turns(tmp_path):
    url = sqlite_url(tmp_path)

    await asyncio.gather(upgrade_database(url), upgrade_database(url))

    assert await schema_diff(url) == []


async def test_sqlite_downgrade_to_base_leaves_no_tables_and_upgrades_again(tmp_path):
    url = sqlite_url(tmp_path)
    await upgrade_database(url)

    await downgrade_database(url, "base")
    assert await table_names(url) == {"alembic_version"}

    await upgrade_database(url)
    assert await schema_diff(url) == []


@pytest.mark.postgres
async def test_postgres_upgrade_matches_the_tables_and_downgrades_cleanly():
    async with scratch_postgres() as url:
        # Replicas starting together each run the upgrade: they must take turns, not collide.
        await asyncio.gather(upgrade_database(url), upgrade_database(url))

        assert await schema_diff(url) == []
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                labels = (
                    await connection.execute(
                        text(
                            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t "
                            "ON t.oid = e.enumtypid WHERE t.typname = 'order_status' "
                            "ORDER BY e.enumsortorder"
                        )
                    )
                ).scalars()
                assert list(labels) == [status.value for status in OrderStatus]

                await downgrade_database(url, "base")
                assert await table_names(url) == {"alembic_version"}
                remaining = await connection.execute(
                    text("SELECT count(*) FROM pg_type WHERE typname = 'order_status'")
                )
                assert remaining.scalar_one() == 0
        finally:
            await engine.dispose()

        await upgrade_database(url)
        assert await schema_diff(url) == []


async def test_alembic_cli_runs_its_own_loop_with_the_checked_in_ini(tmp_path):
    url = sqlite_url(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(REPO_ROOT / "alembic.ini"),
        "-x",
        f"url={url}",
        "upgrade",
        "head",
        cwd=tmp_path,  # the ini must not depend on the working directory
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    _, stderr = await process.communicate()

    assert process.returncode == 0, stderr.decode()
    assert "Running upgrade  -> 0001" in stderr.decode()
    assert await schema_diff(url) == []


def test_programmatic_config_needs_no_ini_file():
    config = alembic_config("postgresql+asyncpg://app:p%40ss@db/manifold")

    assert config.config_file_name is None
    assert (Path(config.get_main_option("script_location") or "") / "env.py").is_file()
    # A percent-encoded password survives the ini parser's interpolation.
    assert config.get_main_option("sqlalchemy.url") == "postgresql+asyncpg://app:p%40ss@db/manifold"


# --- seed data -------------------------------------------------------------------------------


async def test_seeding_sqlite_gives_consistent_rows_and_reports_them(tmp_path):
    url = sqlite_url(tmp_path)
    await upgrade_database(url)

    report = await seed(url, **SMALL)

    rows = await dump(url)
    assert (report.users, report.orders, report.order_lines) == (
        20,
        60,
        len(rows["order_lines"]),
    )
    assert not report.skipped
    assert report.elapsed_seconds > 0
    assert len(rows["orders"]) == 60
    assert_consistent(rows, users_count=20)


async def test_two_fresh_databases_seeded_alike_hold_identical_rows(tmp_path):
    first, second = sqlite_url(tmp_path, "first"), sqlite_url(tmp_path, "second")
    for url in (first, second):
        await upgrade_database(url)
        await seed(url, **SMALL)

    assert await dump(first) == await dump(second)


async def test_a_different_seed_gives_different_rows(tmp_path):
    first, second = sqlite_url(tmp_path, "first"), sqlite_url(tmp_path, "second")
    for url, seed_value in ((first, 1), (second, 2)):
        await upgrade_database(url)
        await seed(url, **SMALL, seed=seed_value)

    assert (await dump(first))["orders"] != (await dump(second))["orders"]


async def test_seeding_again_skips_and_topping_up_matches_a_fresh_seed(tmp_path):
    url, fresh = sqlite_url(tmp_path, "topped-up"), sqlite_url(tmp_path, "fresh")
    for each in (url, fresh):
        await upgrade_database(each)
    await seed(url, users=8, orders_per_user=3, as_of=AS_OF)

    again = await seed(url, users=8, orders_per_user=3, as_of=AS_OF)
    fewer = await seed(url, users=5, orders_per_user=3, as_of=AS_OF)
    assert again.skipped
    assert fewer.skipped
    assert (again.users, again.orders, again.order_lines) == (0, 0, 0)
    assert len((await dump(url))["users"]) == 8

    more = await seed(url, users=20, orders_per_user=3, as_of=AS_OF)
    await seed(fresh, users=20, orders_per_user=3, as_of=AS_OF)
    assert (more.users, more.orders, more.skipped) == (12, 36, False)
    assert await dump(url) == await dump(fresh)


@pytest.mark.postgres
async def test_postgres_seed_copies_the_same_rows_as_sqlite_and_moves_the_sequences(tmp_path):
    sqlite = sqlite_url(tmp_path)
    await upgrade_database(sqlite)
    await seed(sqlite, **SMALL)

    async with scratch_postgres() as url:
        await upgrade_database(url)
        report = await seed(url, **SMALL)
        again = await seed(url, **SMALL)

        rows = await dump(url)
        assert rows == await dump(sqlite)
        assert_consistent(rows, users_count=20)
        assert (report.users, report.orders, report.order_lines) == (
            20,
            60,
            len(rows["order_lines"]),
        )
        assert again.skipped

        # COPY wrote explicit ids; plain INSERTs must carry on after them, not collide.
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                user_id = (
                    await connection.execute(
                        insert(users)
                        .values(subject="after-seed", name="After Seed", email="after@example.com")
                        .returning(users.c.id)
                    )
                ).scalar_one()
                order_id = (
                    await connection.execute(
                        insert(orders)
                        .values(
                            number="MF-AFTER",
                            user_id=user_id,
                            status=OrderStatus.PENDING,
                            currency=CURRENCY,
                            total=Decimal("4.99"),
                        )
                        .returning(orders.c.id)
                    )
                ).scalar_one()
                line_id = (
                    await connection.execute(
                        insert(order_lines)
                        .values(
                            order_id=order_id, content_id=1, quantity=1, unit_price=Decimal("4.99")
                        )
                        .returning(order_lines.c.id)
                    )
                ).scalar_one()
                assert (user_id, order_id, line_id) == (21, 61, len(rows["order_lines"]) + 1)
                await connection.rollback()
        finally:
            await engine.dispose()


async def assert_a_failed_seed_leaves_nothing_behind(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(users).values(
                    id=1, subject="someone", name="Some One", email="s@example.com"
                )
            )
            # Takes the number the seeder will give user 2's first order, so that the users
            # are written and then the orders fail.
            await connection.execute(
                insert(orders).values(
                    id=1,
                    number="MF-000002-01",
                    user_id=1,
                    status=OrderStatus.PAID,
                    currency=CURRENCY,
                    total=Decimal("1.00"),
                )
            )
        with pytest.raises(
            Exception, match=r"uq_orders_number|UNIQUE constraint failed: orders.number"
        ):
            await seed_database(engine, users=3, orders_per_user=1, as_of=AS_OF)

        async with engine.connect() as connection:
            counts = [
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                for table in (users, orders, order_lines)
            ]
        assert counts == [1, 1, 0]
    finally:
        await engine.dispose()


async def test_a_failed_sqlite_seed_leaves_nothing_behind(tmp_path):
    url = sqlite_url(tmp_path)
    await upgrade_database(url)

    await assert_a_failed_seed_leaves_nothing_behind(url)


@pytest.mark.postgres
async def test_a_failed_postgres_seed_leaves_nothing_behind():
    async with scratch_postgres() as url:
        await upgrade_database(url)

        await assert_a_failed_seed_leaves_nothing_behind(url)


async def test_seeding_rejects_impossible_arguments(tmp_path):
    engine = create_engine(sqlite_url(tmp_path))
    try:
        with pytest.raises(ValueError, match="negative"):
            await seed_database(engine, users=-1, orders_per_user=1)
        with pytest.raises(ValueError, match="lines_per_order"):
            await seed_database(engine, users=1, orders_per_user=1, lines_per_order=(3, 2))
        with pytest.raises(ValueError, match="timezone"):
            await seed_database(engine, users=1, orders_per_user=1, as_of=datetime(2026, 1, 1))
    finally:
        await engine.dispose()


async def test_count_query_and_report_agree_after_seeding(tmp_path):
    url = sqlite_url(tmp_path)
    await upgrade_database(url)
    report = await seed(url, users=5, orders_per_user=2, lines_per_order=(2, 2), as_of=AS_OF)

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            lines = (
                await connection.execute(select(func.count()).select_from(order_lines))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert (report.orders, report.order_lines, lines) == (10, 20, 20)
