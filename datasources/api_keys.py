"""Rows of the ``api_keys`` table: partner keys, stored as a hash of their secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.db import Database
from datasources.pagination import Page, decode_id_cursor
from datasources.sql import AnyRow, id_page, page_by_id, statement
from datasources.tables import api_keys, utc_now

API_KEY_CURSOR = "api-key"

_COLUMNS = (
    api_keys.c.id,
    api_keys.c.key_id,
    api_keys.c.secret_hash,
    api_keys.c.name,
    api_keys.c.owner,
    api_keys.c.scopes,
    api_keys.c.budget,
    api_keys.c.created_at,
    api_keys.c.expires_at,
    api_keys.c.revoked_at,
    api_keys.c.last_used_at,
)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    key_id: str
    secret_hash: str
    name: str
    owner: str | None
    scopes: tuple[str, ...]
    budget: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _record(row: AnyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        key_id=row.key_id,
        secret_hash=row.secret_hash,
        name=row.name,
        owner=row.owner,
        scopes=tuple(row.scopes.split()),
        budget=row.budget,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


async def insert_api_key(
    database: Database,
    *,
    key_id: str,
    secret_hash: str,
    name: str,
    owner: str | None,
    scopes: tuple[str, ...],
    budget: int | None,
    expires_at: datetime | None,
    within: Callable[[AsyncConnection, ApiKeyRecord], Awaitable[None]] | None = None,
) -> ApiKeyRecord:
    """``within`` runs in the insert's transaction: what must commit with the key, or not."""
    statement = (
        api_keys.insert()
        .values(
            key_id=key_id,
            secret_hash=secret_hash,
            name=name,
            owner=owner,
            scopes=" ".join(scopes),
            budget=budget,
            created_at=utc_now(),
            expires_at=expires_at,
        )
        .returning(*_COLUMNS)
    )
    async with database.transaction() as connection:
        record = _record((await connection.execute(statement)).one())
        if within is not None:
            await within(connection, record)
    return record


async def api_key_by_key_id(database: Database, key_id: str) -> ApiKeyRecord | None:
    query = select(*_COLUMNS).where(api_keys.c.key_id == key_id)
    async with database.connect() as connection:
        row = (await connection.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def revoke_api_key(database: Database, key_id: str) -> ApiKeyRecord | None:
    """Mark a key revoked (idempotent: the first revocation time is kept)."""
    statement = (
        update(api_keys)
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    async with database.transaction() as connection:
        await connection.execute(statement)
        row = (
            await connection.execute(select(*_COLUMNS).where(api_keys.c.key_id == key_id))
        ).one_or_none()
    return None if row is None else _record(row)


async def touch_api_key(database: Database, key_id: str, *, interval: timedelta) -> None:
    """Record a use, unless one was recorded less than ``interval`` ago (by any process)."""
    now = utc_now()
    statement = (
        update(api_keys)
        .where(
            api_keys.c.key_id == key_id,
            or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - interval),
        )
        .values(last_used_at=now)
    )
    async with database.transaction() as connection:
        await connection.execute(statement)


@statement
def _page(after: bool) -> Select[Any]:
    return id_page(select(*_COLUMNS), api_keys.c.id, after=after)


def parse_api_key_cursor(cursor: str) -> int:
    return decode_id_cursor(API_KEY_CURSOR, cursor)


async def list_api_keys(
    database: Database, *, first: int, after_id: int | None
) -> Page[ApiKeyRecord]:
    """Keys in creation order (keyset on the row id)."""
    return await page_by_id(
        database,
        _page,
        kind=API_KEY_CURSOR,
        first=first,
        after_id=after_id,
        record=_record,
    )
