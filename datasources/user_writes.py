"""Writes to the ``users`` table: a user's own profile."""

from __future__ import annotations

from sqlalchemy import update

from datasources.db import Database
from datasources.tables import users
from datasources.users import UserRecord
from datasources.writes import transaction


async def rename_user(database: Database, user_id: int, name: str) -> UserRecord | None:
    statement = (
        update(users)
        .where(users.c.id == user_id)
        .values(name=name)
        .returning(users.c.id, users.c.subject, users.c.name, users.c.email, users.c.created_at)
    )
    async with transaction(database) as connection:
        row = (await connection.execute(statement)).one_or_none()
    if row is None:
        return None
    return UserRecord(
        id=row.id, subject=row.subject, name=row.name, email=row.email, created_at=row.created_at
    )
