"""Row factories: each test writes the rows it reads, inside its rolled-back transaction."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.tables import OrderStatus, order_lines, orders, users

_sequence = itertools.count(1)


@dataclass(frozen=True)
class MadeUser:
    id: int
    subject: str
    name: str
    email: str


@dataclass(frozen=True)
class MadeOrder:
    id: int
    number: str
    user_id: int
    total: Decimal


async def make_user(
    connection: AsyncConnection, *, name: str | None = None, user_id: int | None = None
) -> MadeUser:
    """A user; pass ``user_id`` to match ids another service refers to (content authors)."""
    n = next(_sequence)
    subject = f"test-subject-{n}"
    name = name or f"User {n}"
    email = f"user{n}@test.example"
    values: dict[str, object] = {"subject": subject, "name": name, "email": email}
    if user_id is not None:
        values["id"] = user_id
    user_id = (
        await connection.execute(users.insert().values(**values).returning(users.c.id))
    ).scalar_one()
    return MadeUser(id=user_id, subject=subject, name=name, email=email)


async def make_order(
    connection: AsyncConnection,
    user: MadeUser,
    *,
    lines: list[tuple[int, int, Decimal]] | None = None,
    status: OrderStatus = OrderStatus.PAID,
    placed_at: datetime | None = None,
) -> MadeOrder:
    """An order with ``lines`` of (content_id, quantity, unit_price); total is their sum."""
    n = next(_sequence)
    lines = lines if lines is not None else [(1, 2, Decimal("9.99")), (2, 1, Decimal("15.00"))]
    total = sum((quantity * price for _, quantity, price in lines), Decimal("0"))
    placed_at = placed_at or datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    number = f"T-{n:06d}"
    order_id = (
        await connection.execute(
            orders.insert()
            .values(
                number=number,
                user_id=user.id,
                status=status,
                currency="EUR",
                total=total,
                placed_at=placed_at,
            )
            .returning(orders.c.id)
        )
    ).scalar_one()
    if lines:
        await connection.execute(
            order_lines.insert(),
            [
                {
                    "order_id": order_id,
                    "content_id": content_id,
                    "quantity": quantity,
                    "unit_price": price,
                }
                for content_id, quantity, price in lines
            ],
        )
    return MadeOrder(id=order_id, number=number, user_id=user.id, total=total)
