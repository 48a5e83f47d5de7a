"""Batch reads of the ``users`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, select

from datasources.db import Database
from datasources.pagination import Page, decode_id_cursor
from datasources.sql import AnyRow, id_page, one_of, page_by_id, statement
from datasources.tables import users

USER_CURSOR = "user"

_COLUMNS = (users.c.id, users.c.subject, users.c.name, users.c.email, users.c.created_at)


class UserRecord(NamedTuple):
    id: int
    subject: str
    name: str
    email: str
    created_at: datetime


def _record(row: AnyRow) -> UserRecord:
    return UserRecord(*row)  # _COLUMNS are the record's fields, in order


def parse_user_cursor(cursor: str) -> int:
    return decode_id_cursor(USER_CURSOR, cursor)


@statement
def _by_ids(dialect: str) -> Select[Any]:
    return select(*_COLUMNS).where(one_of(users.c.id, "ids", dialect))


@statement
def _by_subjects(dialect: str) -> Select[Any]:
    return select(*_COLUMNS).where(one_of(users.c.subject, "subjects", dialect, text=True))


@statement
def _page(after: bool) -> Select[Any]:
    return id_page(select(*_COLUMNS), users.c.id, after=after)


async def users_by_ids(database: Database, ids: Sequence[int]) -> dict[int, UserRecord]:
    async with database.connect() as connection:
        rows = (await connection.execute(_by_ids(database.dialect), {"ids": list(ids)})).all()
    return {record.id: record for record in map(_record, rows)}


async def users_by_subjects(database: Database, subjects: Sequence[str]) -> dict[str, UserRecord]:
    query = _by_subjects(database.dialect)
    async with database.connect() as connection:
        rows = (await connection.execute(query, {"subjects": list(subjects)})).all()
    return {record.subject: record for record in map(_record, rows)}


async def users_page(database: Database, *, first: int, after_id: int | None) -> Page[UserRecord]:
    """Users in id order, keyset-paginated."""
    return await page_by_id(
        database,
        _page,
        kind=USER_CURSOR,
        first=first,
        after_id=after_id,
        record=_record,
    )
