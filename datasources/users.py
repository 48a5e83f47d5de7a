"""Batch reads of the ``users`` table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from datasources.db import Database
from datasources.pagination import Page, decode_id_cursor
from datasources.sql import AnyRow, id_in, page_by_id
from datasources.tables import users

USER_CURSOR = "user"

_COLUMNS = (users.c.id, users.c.subject, users.c.name, users.c.email, users.c.created_at)


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    subject: str
    name: str
    email: str
    created_at: datetime


def _record(row: AnyRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        subject=row.subject,
        name=row.name,
        email=row.email,
        created_at=row.created_at,
    )


def parse_user_cursor(cursor: str) -> int:
    return decode_id_cursor(USER_CURSOR, cursor)


async def users_by_ids(database: Database, ids: Sequence[int]) -> dict[int, UserRecord]:
    query = select(*_COLUMNS).where(id_in(users.c.id, ids, database.dialect))
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {row.id: _record(row) for row in rows}


async def users_by_subjects(database: Database, subjects: Sequence[str]) -> dict[str, UserRecord]:
    query = select(*_COLUMNS).where(users.c.subject.in_(list(subjects)))
    async with database.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {row.subject: _record(row) for row in rows}


async def users_page(database: Database, *, first: int, after_id: int | None) -> Page[UserRecord]:
    """Users in id order, keyset-paginated."""
    return await page_by_id(
        database,
        select(*_COLUMNS),
        users.c.id,
        kind=USER_CURSOR,
        first=first,
        after_id=after_id,
        record=_record,
    )
