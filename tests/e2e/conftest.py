"""What the end-to-end specifications share: a customer of their own, and for the tests that
run real gateway processes, a committed, migrated PostgreSQL database of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datasources.db import create_engine
from tests.databases import scratch_postgres
from tests.factories import MadeUser, make_user


@pytest.fixture
async def customer(connection: AsyncConnection) -> MadeUser:
    """A user who places orders, in the test's rolled-back transaction."""
    return await make_user(connection)


@pytest.fixture
async def scratch_url() -> AsyncIterator[str]:
    """A database of the test's own, migrated: processes cannot share a rolled-back one."""
    async with scratch_postgres(migrated=True) as url:
        yield url


@pytest.fixture
async def scratch(scratch_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own engine on it, to read what the processes wrote."""
    engine = create_engine(scratch_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()
