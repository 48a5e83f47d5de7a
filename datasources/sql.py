"""Dialect-aware SQL fragments shared by the batch queries.

Statements on the hot paths are built once per dialect and shape, with bound parameters for
every value (``@statement`` caches the builder): building a ``select()`` costs more Python time
than executing a cached compiled statement, and the same object keeps SQLAlchemy's compiled
cache hit without recomputing its key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Row, Select, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnClause

from datasources.db import Database
from datasources.pagination import LazyCursors, Page, encode_cursor

R = TypeVar("R")

#: A result row of any shape; the batch queries read columns by name.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


#: Caches a statement builder by its arguments (the dialect and the statement's shape).
statement = cache


def one_of(
    column: ColumnClause[Any] | ColumnElement[Any], name: str, dialect: str, *, text: bool = False
) -> ColumnElement[bool]:
    """``column = ANY(:name)`` on PostgreSQL, an expanding ``IN (:name)`` elsewhere.

    One array parameter keeps a single prepared statement for every batch size on asyncpg;
    SQLite has no arrays, so it gets an expanding ``IN``. Pass the values as ``{name: [...]}``.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String if text else BigInteger)))
    return column.in_(bindparam(name, expanding=True))


def id_page(query: Select[Any], id_column: ColumnElement[int], *, after: bool) -> Select[Any]:
    """``query`` in id order, ``:limit`` rows, after ``:after_id`` when ``after``."""
    query = query.order_by(id_column).limit(bindparam("limit"))
    return query.where(id_column > bindparam("after_id")) if after else query


async def page_by_id(
    database: Database,
    query: Callable[[bool], Select[Any]],
    *,
    kind: str,
    first: int,
    after_id: int | None,
    record: Callable[[AnyRow], R],
) -> Page[R]:
    """A page in id order after ``after_id``; one row past the page tells whether more exist.

    ``query(after)`` is the cached ``id_page`` statement; ``record`` must carry the row's id as
    ``id``: it is what each cursor holds.
    """
    params: dict[str, Any] = {"limit": first + 1}
    if after_id is not None:
        params["after_id"] = after_id
    async with database.connect() as connection:
        rows = (await connection.execute(query(after_id is not None), params)).all()
    items = [record(row) for row in rows[:first]]
    return Page(
        items=items,
        cursors=LazyCursors(items, lambda item: encode_cursor(kind, [item.id])),  # type: ignore[attr-defined]
        has_next_page=len(rows) > first,
        has_previous_page=after_id is not None,
    )
