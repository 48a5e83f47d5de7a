"""Dialect-aware SQL fragments shared by the batch queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import BigInteger, ColumnElement, Row, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnClause

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
