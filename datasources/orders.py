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
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select

from datasources.db import Database
from datasources.pagination import LazyCursors, Page, decode_cursor, encode_cursor, invalid_cursor
from datasources.sql import AnyRow, one_of, statement
from datasources.tables import OrderStatus, order_lines, orders
from datasources.timeutil import as_utc

ORDER_CURSOR = "order"

ORDER_COLUMNS = (
    orders.c.id,
    orders.c.number,
    orders.c.user_id,
    orders.c.status,
    orders.c.currency,
    orders.c.total,
    orders.c.placed_at,
)


class OrderRecord(NamedTuple):
    """Records are named tuples: as immutable as a frozen dataclass, built from a row in a
    third of the time, and a page of orders builds hundreds of them."""

    id: int
    number: str
    user_id: int
    status: OrderStatus
    currency: str
    total: Decimal
    placed_at: datetime


class OrderLineRecord(NamedTuple):
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


def order_record(row: Sequence[Any]) -> OrderRecord:
    # Positional: the columns are selected in the record's field order, and reading a Row by
    # name costs more than building the record (thousands of rows for a nested page).
    return OrderRecord(*row)


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


def _filters(*, after: bool, status: bool) -> list[ColumnElement[bool]]:
    """``:status`` and the keyset position ``(:after_at, :after_id)``, when the page has them."""
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(orders.c.status == bindparam("status"))
    if after:
        conditions.append(
            or_(
                orders.c.placed_at < bindparam("after_at"),
                and_(
                    orders.c.placed_at == bindparam("after_at"),
                    orders.c.id < bindparam("after_id"),
                ),
            )
        )
    return conditions


def _filter_values(
    after: tuple[datetime, int] | None, status: OrderStatus | None
) -> dict[str, object]:
    values: dict[str, object] = {}
    if status is not None:
        values["status"] = status
    if after is not None:
        values["after_at"], values["after_id"] = after
    return values


@statement
def _by_ids(dialect: str) -> Select[Any]:
    return select(*ORDER_COLUMNS).where(one_of(orders.c.id, "ids", dialect))


@statement
def _lines(dialect: str) -> Select[Any]:
    return (
        select(
            order_lines.c.id,
            order_lines.c.order_id,
            order_lines.c.content_id,
            order_lines.c.quantity,
            order_lines.c.unit_price,
            orders.c.currency,
        )
        .join(orders, orders.c.id == order_lines.c.order_id)
        .where(one_of(order_lines.c.order_id, "ids", dialect))
        .order_by(order_lines.c.order_id, order_lines.c.id)
    )


@statement
def _pages(dialect: str, *, after: bool, status: bool) -> Select[Any]:
    """The same page of each ``:ids`` customer's orders: ``row_number()`` per customer."""
    rank = (
        func.row_number()
        .over(
            partition_by=orders.c.user_id, order_by=(orders.c.placed_at.desc(), orders.c.id.desc())
        )
        .label("rank")
    )
    ranked = (
        select(*ORDER_COLUMNS, rank)
        .where(one_of(orders.c.user_id, "ids", dialect), *_filters(after=after, status=status))
        .subquery("ranked")
    )
    return (
        select(*(ranked.c[column.name] for column in ORDER_COLUMNS))
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(ranked.c.user_id, ranked.c.rank)
    )


@statement
def _all_page(*, after: bool, status: bool) -> Select[Any]:
    return (
        select(*ORDER_COLUMNS)
        .where(*_filters(after=after, status=status))
        .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
        .limit(bindparam("limit"))
    )


def _page(rows: Sequence[AnyRow], first: int, has_previous: bool) -> Page[OrderRecord]:
    records = [order_record(row) for row in rows[:first]]
    return Page(
        items=records,
        cursors=LazyCursors(records, order_cursor),
        has_next_page=len(rows) > first,
        has_previous_page=has_previous,
    )


async def orders_by_ids(database: Database, ids: Sequence[int]) -> dict[int, OrderRecord]:
    async with database.connect() as connection:
        rows = (await connection.execute(_by_ids(database.dialect), {"ids": list(ids)})).all()
    return {record.id: record for record in map(order_record, rows)}


async def lines_by_order_ids(
    database: Database, order_ids: Sequence[int]
) -> dict[int, list[OrderLineRecord]]:
    async with database.connect() as connection:
        rows = (await connection.execute(_lines(database.dialect), {"ids": list(order_ids)})).all()
    grouped: dict[int, list[OrderLineRecord]] = defaultdict(list)
    for row in rows:
        line = OrderLineRecord(*row)  # the columns are the record's fields, in order
        grouped[line.order_id].append(line)
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
    query = _pages(database.dialect, after=after is not None, status=status is not None)
    params = {"ids": list(user_ids), "limit": first + 1, **_filter_values(after, status)}
    async with database.connect() as connection:
        rows = (await connection.execute(query, params)).all()
    by_user: dict[int, list[AnyRow]] = defaultdict(list)
    for row in rows:
        by_user[row[2]].append(row)  # user_id, the third of ORDER_COLUMNS
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
    query = _all_page(after=after is not None, status=status is not None)
    params = {"limit": first + 1, **_filter_values(after, status)}
    async with database.connect() as connection:
        rows = (await connection.execute(query, params)).all()
    return _page(rows, first, after is not None)
