"""What the order and payment specifications share: a customer of their own."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import MadeUser, make_user


@pytest.fixture
async def customer(connection: AsyncConnection) -> MadeUser:
    """A user who places orders, in the test's rolled-back transaction."""
    return await make_user(connection)
