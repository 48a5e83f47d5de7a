"""Writing orders: a new order with its lines, payment and first event; and state changes.

Every function here takes the caller's connection, inside the caller's transaction, so a use
case composes them with its idempotency checkpoint and its outbox event into one commit.
A state change first locks the order (``lock_order``) and applies the state machine
(``datasources.order_states``) to what it finds, then bumps the order's version and writes the
event with that version: one change, one event, in order.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources import outbox
from datasources.events import OrderEvent
from datasources.order_states import OrderState, Transition, intent_created, placed
from datasources.orders import ORDER_COLUMNS, OrderRecord, order_record
from datasources.payments import PAYMENT_COLUMNS, PaymentRecord, payment_record
from datasources.tables import order_lines, orders, payments, utc_now

#: Order numbers: ``MF-`` and ten characters no one misreads (no 0/O, 1/I/L).
_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 10

#: The order's columns, and its version (the sequence number of its events).
_ORDER_COLUMNS = (*ORDER_COLUMNS, orders.c.version)
#: ``order_record`` reads its fields by position: the columns before the version.
_ORDER_WIDTH = len(ORDER_COLUMNS)


@dataclass(frozen=True, slots=True)
class NewLine:
    content_id: int
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Locked:
    """An order and its payment as they are, under the transaction's lock."""

    order: OrderRecord
    version: int
    payment: PaymentRecord | None

    @property
    def state(self) -> OrderState:
        return OrderState(self.order.status, None if self.payment is None else self.payment.status)


def new_order_number() -> str:
    return "MF-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def order_event(order: OrderRecord, transition: Transition, version: int) -> OrderEvent:
    payment = transition.to.payment
    return OrderEvent(
        id=str(uuid.uuid4()),
        type=transition.event.value,
        order_id=order.id,
        user_id=order.user_id,
        version=version,
        status=transition.to.order.value,
        payment_status=None if payment is None else payment.value,
        occurred_at=utc_now(),
    )


async def insert_order(
    connection: AsyncConnection,
    *,
    user_id: int,
    currency: str,
    lines: Sequence[NewLine],
) -> tuple[Locked, OrderEvent]:
    """A pending order, its lines, its payment (not started) and its ``ORDER_PLACED`` event."""
    total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    transition = placed()
    now = utc_now()
    row = (
        await connection.execute(
            orders.insert()
            .values(
                number=new_order_number(),
                user_id=user_id,
                status=transition.to.order,
                currency=currency,
                total=total,
                placed_at=now,
                version=1,
            )
            .returning(*_ORDER_COLUMNS)
        )
    ).one()
    order = order_record(row[:_ORDER_WIDTH])
    await connection.execute(
        order_lines.insert(),
        [
            {
                "order_id": order.id,
                "content_id": line.content_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in lines
        ],
    )
    payment = (
        await connection.execute(
            payments.insert()
            .values(
                order_id=order.id,
                status=transition.to.payment,
                amount=total,
                currency=currency,
                provider_key=f"mf-{uuid.uuid4().hex}",
                created_at=now,
                updated_at=now,
            )
            .returning(*PAYMENT_COLUMNS)
        )
    ).one()
    event = order_event(order, transition, 1)
    await outbox.append(connection, event)
    return Locked(order, 1, payment_record(payment)), event


async def lock_order(connection: AsyncConnection, order_id: int) -> Locked | None:
    """The order and its payment, locked until the transaction ends; None if there is none."""
    if connection.dialect.name == "sqlite":
        # SQLite locks the database, not rows, and only from a transaction's first write: a
        # no-op write first, so what is read next cannot change before this transaction ends.
        await connection.execute(
            update(orders).where(orders.c.id == order_id).values(version=orders.c.version)
        )
    row = (
        await connection.execute(
            select(*_ORDER_COLUMNS).where(orders.c.id == order_id).with_for_update()
        )
    ).one_or_none()
    if row is None:
        return None
    found = (
        await connection.execute(
            select(*PAYMENT_COLUMNS).where(payments.c.order_id == order_id).with_for_update()
        )
    ).one_or_none()
    return Locked(
        order_record(row[:_ORDER_WIDTH]),
        row.version,
        None if found is None else payment_record(found),
    )


async def apply(
    connection: AsyncConnection,
    locked: Locked,
    transition: Transition,
    *,
    order_values: Mapping[str, Any] | None = None,
    payment_values: Mapping[str, Any] | None = None,
) -> tuple[Locked, OrderEvent]:
    """Make ``transition`` of a locked order (with extra order and payment columns) and write
    its event."""
    version = locked.version + 1
    await connection.execute(
        update(orders)
        .where(orders.c.id == locked.order.id)
        .values(status=transition.to.order, version=version, **(order_values or {}))
    )
    order = locked.order._replace(status=transition.to.order)
    payment = locked.payment
    if payment is not None and transition.to.payment is not None:
        payment = await update_payment(
            connection, payment.id, status=transition.to.payment, **(payment_values or {})
        )
    event = order_event(order, transition, version)
    await outbox.append(connection, event)
    return Locked(order, version, payment), event


async def update_payment(
    connection: AsyncConnection, payment_id: int, **values: Any
) -> PaymentRecord:
    """Set payment columns that are not a state change (the intent's id), or with one."""
    row = (
        await connection.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(updated_at=utc_now(), **values)
            .returning(*PAYMENT_COLUMNS)
        )
    ).one()
    return payment_record(row)


async def record_intent(
    connection: AsyncConnection, order_id: int, intent_id: str, client_secret: str | None
) -> Locked:
    """The provider's intent for an order's payment: ``PAYMENT_PROCESSING``, unless a webhook
    told us more already (then only the ids missing are filled in)."""
    locked = await lock_order(connection, order_id)
    if locked is None or locked.payment is None:
        raise LookupError(f"order {order_id} has no payment")
    payment = locked.payment
    values: dict[str, Any] = {}
    if payment.intent_id is None:
        values["intent_id"] = intent_id
    if payment.client_secret is None and client_secret is not None:
        values["client_secret"] = client_secret
    transition = intent_created(locked.state)
    if transition is not None:
        locked, _ = await apply(connection, locked, transition, payment_values=values)
    elif values:
        locked = replace(locked, payment=await update_payment(connection, payment.id, **values))
    return locked
