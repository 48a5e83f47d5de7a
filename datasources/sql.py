"""Dialect-aware SQL fragments shared by the batch queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Row, Select, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnClause

from datasources.db import Database
from datasources.pagination import Page, encode_cursor

R = TypeVar("R")

#: A result row of any shape; the batch queries read columns by name.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def id_in(
    column: ColumnClause[int] | ColumnElement[int], ids: Sequence[int], dialect: str
) -> ColumnElement[bool]:
    """``column = ANY(:ids)`` on PostgreSQL, ``IN (...)`` elsewhere.

    One array parameter keeps a single prepared statement for every batch size on asyncpg;
    SQLite has no arrays, so it gets an expanding ``IN``.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(list(ids))


async def page_by_id(
    database: Database,
    query: Select[Any],
    id_column: ColumnElement[int],
    *,
    kind: str,
    first: int,
    after_id: int | None,
    record: Callable[[AnyRow], R],
) -> Page[R]:
    """``query`` in id order after ``after_id``; one row past the page tells whether more exist.

    ``record`` must carry the row's id as ``id``: it is what each cursor holds.
    """
    query = query.order_by(id_column).limit(first + 1)
    if after_id is not None:
        query = query.where(id_column > after_id)
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    return Page(
        items=[record(row) for row in rows[:first]],
        cursors=[encode_cursor(kind, [row.id]) for row in rows[:first]],
        has_next_page=len(rows) > first,
        has_previous_page=after_id is not None,
    )
