"""Batch reads of ``orders`` and ``order_lines``.

Pages of orders are keyset-paginated newest first on ``(placed_at, id)``. The per-customer page
is fetched for every parent in one statement with ``row_number()`` over each customer's orders, so
``users { orders(first: 10) }`` costs one statement however many users are listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select

from datasources.db import Database
from datasources.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from datasources.sql import AnyRow, id_in
from datasources.tables import OrderStatus, order_lines, orders
from datasources.timeutil import as_utc

ORDER_CURSOR = "order"

_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.number,
    orders.c.user_id,
    orders.c.status,
    orders.c.currency,
    orders.c.total,
    orders.c.placed_at,
)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: int
    number: str
    user_id: int
    status: OrderStatus
    currency: str
    total: Decimal
    placed_at: datetime


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    id: int
    order_id: int
    content_id: int
    quantity: int
    unit_price: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class OrderPageKey:
    """One page request; hashable so a loader can batch and de-duplicate it.

    ``user_id`` None pages over every order (staff); ``after`` is the decoded keyset position.
    """

    user_id: int | None
    first: int
    after: tuple[datetime, int] | None = None
    status: OrderStatus | None = None


def _order(row: AnyRow) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        number=row.number,
        user_id=row.user_id,
        status=OrderStatus(row.status),
        currency=row.currency,
        total=Decimal(row.total),
        placed_at=row.placed_at,
    )


def order_cursor(record: OrderRecord) -> str:
    return encode_cursor(ORDER_CURSOR, [record.placed_at.isoformat(), record.id])


def parse_order_cursor(cursor: str) -> tuple[datetime, int]:
    placed_at, order_id = decode_cursor(ORDER_CURSOR, cursor, 2)
    if not isinstance(placed_at, str) or not isinstance(order_id, int):
        raise invalid_cursor()
    try:
        return as_utc(datetime.fromisoformat(placed_at)), order_id
    except (ValueError, OverflowError):
        raise invalid_cursor() from None


def _filters(
    after: tuple[datetime, int] | None, status: OrderStatus | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(orders.c.status == status)
    if after is not None:
        placed_at, order_id = after
        conditions.append(
            or_(
                orders.c.placed_at < placed_at,
                and_(orders.c.placed_at == placed_at, orders.c.id < order_id),
            )
        )
    return conditions


def _page(rows: Sequence[AnyRow], first: int, has_previous: bool) -> Page[OrderRecord]:
    records = [_order(row) for row in rows[:first]]
    return Page(
        items=records,
        cursors=[order_cursor(record) for record in records],
        has_next_page=len(rows) > first,
        has_previous_page=has_previous,
    )


async def orders_by_ids(database: Database, ids: Sequence[int]) -> dict[int, OrderRecord]:
    query = select(*_ORDER_COLUMNS).where(id_in(orders.c.id, ids, database.dialect))
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {row.id: _order(row) for row in rows}


async def lines_by_order_ids(
    database: Database, order_ids: Sequence[int]
) -> dict[int, list[OrderLineRecord]]:
    query = (
        select(
            order_lines.c.id,
            order_lines.c.order_id,
            order_lines.c.content_id,
            order_lines.c.quantity,
            order_lines.c.unit_price,
            orders.c.currency,
        )
        .join(orders, orders.c.id == order_lines.c.order_id)
        .where(id_in(order_lines.c.order_id, order_ids, database.dialect))
        .order_by(order_lines.c.order_id, order_lines.c.id)
    )
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    grouped: dict[int, list[OrderLineRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.order_id].append(
            OrderLineRecord(
                id=row.id,
                order_id=row.order_id,
                content_id=row.content_id,
                quantity=row.quantity,
                unit_price=Decimal(row.unit_price),
                currency=row.currency,
            )
        )
    return grouped


async def order_pages(
    database: Database,
    *,
    user_ids: Sequence[int],
    first: int,
    after: tuple[datetime, int] | None,
    status: OrderStatus | None,
) -> dict[int, Page[OrderRecord]]:
    """The same page of orders for each customer, in one statement."""
    rank = (
        func.row_number()
        .over(
            partition_by=orders.c.user_id, order_by=(orders.c.placed_at.desc(), orders.c.id.desc())
        )
        .label("rank")
    )
    ranked = (
        select(*_ORDER_COLUMNS, rank)
        .where(id_in(orders.c.user_id, user_ids, database.dialect), *_filters(after, status))
        .subquery("ranked")
    )
    query = (
        select(*(ranked.c[column.name] for column in _ORDER_COLUMNS))
        .where(ranked.c.rank <= first + 1)
        .order_by(ranked.c.user_id, ranked.c.rank)
    )
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    by_user: dict[int, list[AnyRow]] = defaultdict(list)
    for row in rows:
        by_user[row.user_id].append(row)
    return {
        user_id: _page(by_user.get(user_id, []), first, after is not None) for user_id in user_ids
    }


async def all_orders_page(
    database: Database,
    *,
    first: int,
    after: tuple[datetime, int] | None,
    status: OrderStatus | None,
) -> Page[OrderRecord]:
    """Every customer's orders, newest first: the staff view."""
    query = (
        select(*_ORDER_COLUMNS)
        .where(*_filters(after, status))
        .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
        .limit(first + 1)
    )
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    return _page(rows, first, after is not None)
