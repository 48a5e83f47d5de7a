"""The shared servers the tests use, and how a test leaves nothing behind in them: skip or fail
when one is missing, a throw-away PostgreSQL database, and a Redis prefix's keys deleted.

A developer's machine may have neither PostgreSQL nor Redis: those tests skip with the reason.
CI sets ``GATEWAY_TEST_REQUIRE_SERVICES=1`` so that a missing service fails loudly instead of
turning the suite green by skipping it. Others share these servers (never flush them): a test
writes only to databases it created and to keys under its own prefix, and removes both.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

#: The server the tests' databases are created on (its own database is never written to).
DATABASE_URL = os.environ.get(
    "GATEWAY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def services_required() -> bool:
    return os.environ.get("GATEWAY_TEST_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def require_or_skip(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(f"{reason} (required: GATEWAY_TEST_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(reason)


def closed_loopback_port() -> int:
    """A port nothing listens on: bound once to learn a free number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty database named ``<prefix>_<random>`` on the tests' server, dropped
    afterwards (connections still open to it included); skips or fails if the server is down."""
    admin_url = make_url(DATABASE_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5}
    )
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        await admin.dispose()
        require_or_skip(
            f"PostgreSQL at {admin_url.render_as_string(hide_password=True)} "
            f"is unavailable: {error}"
        )
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def delete_keys(redis_url: str, prefix: str) -> None:
    """Every key under ``prefix`` (only those: never FLUSHDB on a Redis others share)."""
    client = Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=prefix + "*"):
            await client.delete(key)
    finally:
        await client.aclose()
