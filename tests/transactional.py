"""A ``Database`` bound to one connection inside a transaction the test rolls back.

The app under test runs unmodified; only the database it is handed differs. Loaders may run
concurrently, so use of the single connection is serialized with a lock, and writes become
savepoints so a failing write rolls back only itself, as it would in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.db import Database


class TransactionalDatabase(Database):
    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection.engine)
        self._connection = connection
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock:
            yield self._connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock, self._connection.begin_nested():
            yield self._connection

    async def wait_idle(self) -> None:
        """Wait out a loader still running after its response (a failed sibling batch), so the
        test's rollback never meets another operation in progress on the connection."""
        async with self._lock:
            pass

    async def dispose(self) -> None:
        """The engine belongs to the test session, not to the app."""
