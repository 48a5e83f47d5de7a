"""Deterministic sample users, orders and order lines for the demo, tests and benchmarks.

Every user's rows come from a random generator seeded with ``(seed, user id)`` alone, so the
same arguments (``as_of`` included) give the same rows on any database, and topping up (asking
for 50 users where 20 exist) gives exactly the rows a fresh 50-user seed would.

Seeding is "skip if already seeded": a database that already holds at least ``users`` users is
left alone; one that holds fewer gets users numbered after its highest id until it holds
``users``. Re-running ``gateway db seed`` or the demo therefore never duplicates anything, and
never touches rows that are already there.

Speed matters because benchmarks seed ~350,000 rows: on PostgreSQL with asyncpg the rows go in
by binary ``COPY`` with explicit ids (then the id sequences are moved past them), elsewhere by
``executemany`` in chunks. Either way it is one transaction, so a failure leaves nothing behind.
On PostgreSQL concurrent seeders take turns; on SQLite the later of two racing seeders fails on
a duplicate id and rolls back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, Protocol, cast

from sqlalchemy import ScalarSelect, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datasources.tables import OrderStatus, order_lines, orders
from datasources.tables import users as users_table
from demo.catalog import CURRENCY, PRODUCT_COUNT, product_price

#: The subject of user 1, the demo's signed-in customer (``gateway token`` mints for it).
FIRST_USER_SUBJECT: Final = "user-000001"
#: The seed ``seed_database`` and ``purchase_history`` use unless told otherwise.
DEFAULT_SEED: Final = 42

_USERS_PER_CHUNK = 1000
_DAY = 86_400

_FIRST_NAMES: Final = (
    "Ada", "Alan", "Amara", "Anika", "Ben", "Carmen", "Chen", "Dara", "Diego", "Elif",
    "Emma", "Farah", "Grace", "Hana", "Ines", "Ivan", "Jamal", "Jonas", "Kai", "Lena",
    "Leo", "Lucia", "Maya", "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn",
    "Rosa", "Sami", "Sofia", "Tariq", "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zoe",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Abe", "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ito", "Jensen", "Kowalski", "Larsen", "Lopez", "Moreau", "Nakamura", "Novak", "Okafor",
    "Park", "Quispe", "Rossi", "Santos", "Schmidt", "Silva", "Tanaka", "Usman", "Varga",
    "Weber", "Xu", "Yilmaz", "Zhang", "Zielinski",
)  # fmt: skip

# How common each status is, and how old (in days) an order in that status can be: pending
# and paid orders are recent and delivered ones are not, as in a real shop.
_STATUSES: Final = (
    (OrderStatus.PENDING, 8, 0, 2),
    (OrderStatus.PAID, 12, 0, 5),
    (OrderStatus.SHIPPED, 15, 1, 14),
    (OrderStatus.DELIVERED, 55, 3, 365),
    (OrderStatus.CANCELLED, 10, 0, 365),
)
_STATUS_WEIGHTS: Final = tuple(weight for _, weight, _, _ in _STATUSES)
_QUANTITIES: Final = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4)

_TABLES: Final = (users_table, orders, order_lines)
_USER_COLUMNS: Final = ("id", "subject", "name", "email", "created_at")
_ORDER_COLUMNS: Final = ("id", "number", "user_id", "status", "currency", "total", "placed_at")
_LINE_COLUMNS: Final = ("id", "order_id", "content_id", "quantity", "unit_price")

_Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What one call added; all zero with ``skipped`` when the database was already seeded."""

    users: int
    orders: int
    order_lines: int
    elapsed_seconds: float
    skipped: bool = False


@dataclass(slots=True)
class _Rows:
    users: list[_Row] = field(default_factory=list)
    orders: list[_Row] = field(default_factory=list)
    lines: list[_Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    orders_per_user: int
    lines_per_order: tuple[int, int]
    seed: int
    as_of: datetime


class _CopyConnection(Protocol):
    """The part of ``asyncpg.Connection`` we use (asyncpg ships no type information)."""

    async def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[object]], columns: Sequence[str]
    ) -> str: ...


def user_subject(user_id: int) -> str:
    return f"user-{user_id:06d}"


async def seed_database(
    engine: AsyncEngine,
    *,
    users: int,
    orders_per_user: int,
    lines_per_order: tuple[int, int] = (1, 4),
    seed: int = DEFAULT_SEED,
    as_of: datetime | None = None,
) -> SeedReport:
    """Make the database hold at least ``users`` seeded users (see the module docstring).

    Orders are placed within the 365 days before ``as_of``, which defaults to the start of the
    current UTC day so that reseeding on the same day reproduces the same timestamps.
    """
    _check_sizes(users, orders_per_user, lines_per_order)
    if as_of is None:
        as_of = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    plan = _Plan(orders_per_user, lines_per_order, seed, as_of.astimezone(UTC))

    started = time.perf_counter()
    async with engine.connect() as connection:
        is_postgres = connection.dialect.name == "postgresql"
        use_copy = is_postgres and connection.dialect.driver == "asyncpg"
        if is_postgres:
            # Seeders queue behind each other (and writers behind them); readers carry on.
            names = ", ".join(map(connection.dialect.identifier_preparer.format_table, _TABLES))
            await connection.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
        existing, last_user, last_order, last_line = (
            await connection.execute(
                select(
                    select(func.count()).select_from(users_table).scalar_subquery(),
                    _max_id(users_table),
                    _max_id(orders),
                    _max_id(order_lines),
                )
            )
        ).one()
        if existing >= users:
            await connection.rollback()
            return SeedReport(0, 0, 0, time.perf_counter() - started, skipped=True)

        new_users = users - existing
        orders_before, lines_before = last_order, last_line
        writer = _copy if use_copy else _insert
        user_ids = range(last_user + 1, last_user + 1 + new_users)
        async with aclosing(_generated(plan, user_ids, last_order + 1, last_line + 1)) as chunks:
            async for rows in chunks:
                await writer(connection, rows)
                last_order += len(rows.orders)
                last_line += len(rows.lines)
        report = SeedReport(
            users=new_users,
            orders=last_order - orders_before,
            order_lines=last_line - lines_before,
            elapsed_seconds=0.0,
        )
        if is_postgres:
            loaded = (report.users, report.orders, report.order_lines)
            tables = [table for table, n in zip(_TABLES, loaded, strict=True) if n]
            await _after_bulk_load(connection, tables)
        await connection.commit()
    return replace(report, elapsed_seconds=time.perf_counter() - started)


def purchase_history(
    *,
    users: int,
    orders_per_user: int,
    lines_per_order: tuple[int, int] = (1, 4),
    seed: int = DEFAULT_SEED,
) -> dict[int, frozenset[int]]:
    """User id -> the product ids in that user's seeded order lines (orders of any status).

    These are exactly the lines ``seed_database`` writes for users 1..``users`` of a fresh
    database seeded with the same arguments: the same generator produces them. ``as_of`` only
    moves timestamps, never which products are bought, so it is not an argument here. The
    recommendations demo service learns from this without reading the database.
    """
    _check_sizes(users, orders_per_user, lines_per_order)
    plan = _Plan(orders_per_user, lines_per_order, seed, datetime(2000, 1, 1, tzinfo=UTC))
    rows = _generate(plan, range(1, users + 1), 1, 1)
    buyer = {order[0]: cast("int", order[2]) for order in rows.orders}
    bought: dict[int, set[int]] = {user_id: set() for user_id in range(1, users + 1)}
    for _line_id, order_id, content_id, *_ in rows.lines:
        bought[buyer[cast("int", order_id)]].add(cast("int", content_id))
    return {user_id: frozenset(products) for user_id, products in bought.items()}


def _check_sizes(users: int, orders_per_user: int, lines_per_order: tuple[int, int]) -> None:
    low, high = lines_per_order
    if users < 0 or orders_per_user < 0:
        raise ValueError("users and orders_per_user must not be negative")
    if not 1 <= low <= high <= PRODUCT_COUNT:
        raise ValueError(f"lines_per_order must satisfy 1 <= low <= high <= {PRODUCT_COUNT}")


def _max_id(table: Table) -> ScalarSelect[int]:
    return select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()


async def _generated(
    plan: _Plan, user_ids: range, next_order_id: int, next_line_id: int
) -> AsyncGenerator[_Rows]:
    """The rows in chunks, each generated in a worker thread while the previous one is written.

    Generating 350,000 rows is about a second of CPU: in a thread it overlaps the database's
    share of the work, and it does not stall the other tasks on the loop (the demo seeds from
    inside a running server).
    """
    chunks = [user_ids[i : i + _USERS_PER_CHUNK] for i in range(0, len(user_ids), _USERS_PER_CHUNK)]
    pending: asyncio.Task[_Rows] | None = None
    try:
        for index, chunk in enumerate(chunks):
            if pending is None:
                pending = _spawn(plan, chunk, next_order_id, next_line_id)
            rows = await pending
            next_order_id += len(rows.orders)
            next_line_id += len(rows.lines)
            pending = None
            if index + 1 < len(chunks):
                pending = _spawn(plan, chunks[index + 1], next_order_id, next_line_id)
            yield rows
    finally:
        if pending is not None:
            # A thread cannot be cancelled: let it finish so nothing outlives the seeding.
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()


def _spawn(
    plan: _Plan, user_ids: range, next_order_id: int, next_line_id: int
) -> asyncio.Task[_Rows]:
    return asyncio.create_task(
        asyncio.to_thread(_generate, plan, user_ids, next_order_id, next_line_id)
    )


def _generate(plan: _Plan, user_ids: range, next_order_id: int, next_line_id: int) -> _Rows:
    low, high = plan.lines_per_order
    product_ids = range(1, PRODUCT_COUNT + 1)
    prices = {product_id: product_price(product_id) for product_id in product_ids}
    rows = _Rows()
    for user_id in user_ids:
        rng = random.Random(f"manifold:{plan.seed}:{user_id}")  # noqa: S311 (sample data)
        first_name = rng.choice(_FIRST_NAMES)
        last_name = rng.choice(_LAST_NAMES)
        signed_up = plan.as_of - timedelta(seconds=rng.randrange(365 * _DAY, 3 * 365 * _DAY))
        rows.users.append(
            (
                user_id,
                user_subject(user_id),
                f"{first_name} {last_name}",
                f"{first_name}.{last_name}{user_id}@example.com".lower(),
                signed_up,
            )
        )
        placed: list[tuple[datetime, OrderStatus]] = []
        for _ in range(plan.orders_per_user):
            status, _weight, min_age, max_age = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
            age = rng.randrange(min_age * _DAY, max_age * _DAY)
            placed.append((plan.as_of - timedelta(seconds=age), status))
        # The customer's order numbers count up in the order the orders were placed.
        placed.sort(key=lambda order: order[0])
        for number, (placed_at, status) in enumerate(placed, start=1):
            total = Decimal(0)
            for content_id in rng.sample(product_ids, rng.randint(low, high)):
                quantity = rng.choice(_QUANTITIES)
                unit_price = prices[content_id]
                total += quantity * unit_price
                rows.lines.append((next_line_id, next_order_id, content_id, quantity, unit_price))
                next_line_id += 1
            rows.orders.append(
                (
                    next_order_id,
                    f"MF-{user_id:06d}-{number:02d}",
                    user_id,
                    status.value,
                    CURRENCY,
                    total,
                    placed_at,
                )
            )
            next_order_id += 1
    return rows


async def _copy(connection: AsyncConnection, rows: _Rows) -> None:
    # The SQLAlchemy statement before this began the transaction on this very asyncpg
    # connection, so COPY runs inside it and commits or rolls back with it.
    raw = await connection.get_raw_connection()
    driver = cast("_CopyConnection", raw.driver_connection)
    for table, columns, records in (
        (users_table, _USER_COLUMNS, rows.users),
        (orders, _ORDER_COLUMNS, rows.orders),
        (order_lines, _LINE_COLUMNS, rows.lines),
    ):
        if records:
            await driver.copy_records_to_table(table.name, records=records, columns=columns)


async def _after_bulk_load(connection: AsyncConnection, tables: Sequence[Table]) -> None:
    for table in tables:
        # Explicit ids bypass the sequence; without this the next INSERT would reuse id 1.
        sequence = func.pg_get_serial_sequence(table.name, "id")
        await connection.execute(select(func.setval(sequence, _max_id(table))))
    if tables:
        # Fresh statistics, or the first queries after a bulk load plan against empty tables.
        names = ", ".join(map(connection.dialect.identifier_preparer.format_table, tables))
        await connection.execute(text(f"ANALYZE {names}"))


async def _insert(connection: AsyncConnection, rows: _Rows) -> None:
    for table, columns, records in (
        (users_table, _USER_COLUMNS, rows.users),
        (orders, _ORDER_COLUMNS, rows.orders),
        (order_lines, _LINE_COLUMNS, rows.lines),
    ):
        if records:
            await connection.execute(
                table.insert(), [dict(zip(columns, record, strict=True)) for record in records]
            )
