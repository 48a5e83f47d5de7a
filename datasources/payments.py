"""Rows of ``payments``, ``webhook_events`` and ``webhook_signatures``.

A payment row is written with its order (``datasources.order_writes``) and changed only through
the state machine; the webhook tables are what make the provider's at-least-once delivery
exactly-once here: an event id is recorded in the transaction that applies it, so a second
delivery finds it and changes nothing, and a signature is recorded once accepted, so the same
signed request cannot be played again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.db import Database
from datasources.sql import AnyRow, one_of, statement
from datasources.tables import (
    OrderStatus,
    PaymentStatus,
    orders,
    payments,
    utc_now,
    webhook_events,
    webhook_signatures,
)
from datasources.writes import insert_or_nothing, transaction

PAYMENT_COLUMNS = (
    payments.c.id,
    payments.c.order_id,
    payments.c.status,
    payments.c.amount,
    payments.c.currency,
    payments.c.provider_key,
    payments.c.requested_at,
    payments.c.intent_id,
    payments.c.client_secret,
    payments.c.refund_id,
    payments.c.failure_reason,
)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    order_id: int
    status: PaymentStatus
    amount: Decimal
    currency: str
    #: The idempotency key of this payment's intent at the provider.
    provider_key: str
    #: Set once the provider was first asked for an intent: one may exist from then on.
    requested_at: datetime | None
    intent_id: str | None
    client_secret: str | None
    refund_id: str | None
    failure_reason: str | None


def payment_record(row: AnyRow) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        order_id=row.order_id,
        status=PaymentStatus(row.status),
        amount=Decimal(row.amount),
        currency=row.currency,
        provider_key=row.provider_key,
        requested_at=row.requested_at,
        intent_id=row.intent_id,
        client_secret=row.client_secret,
        refund_id=row.refund_id,
        failure_reason=row.failure_reason,
    )


@statement
def _by_order_ids(dialect: str) -> Select[Any]:
    return select(*PAYMENT_COLUMNS).where(one_of(payments.c.order_id, "ids", dialect))


async def payments_by_order_ids(
    database: Database, order_ids: Sequence[int]
) -> dict[int, PaymentRecord]:
    async with database.connect() as connection:
        rows = (
            await connection.execute(_by_order_ids(database.dialect), {"ids": list(order_ids)})
        ).all()
    return {row.order_id: payment_record(row) for row in rows}


async def record_webhook_event(
    connection: AsyncConnection,
    dialect: str,
    *,
    event_id: str,
    event_type: str,
    order_id: int | None,
    outcome: str,
) -> bool:
    """Record an event as processed in the caller's transaction; False if it already was (a
    concurrent delivery of the same event waits here for the first to finish)."""
    inserted = (
        await connection.execute(
            insert_or_nothing(webhook_events, dialect, ("event_id",))
            .values(
                event_id=event_id,
                type=event_type,
                order_id=order_id,
                outcome=outcome,
                received_at=utc_now(),
            )
            .returning(webhook_events.c.id)
        )
    ).scalar_one_or_none()
    return inserted is not None


async def set_webhook_outcome(connection: AsyncConnection, event_id: str, outcome: str) -> None:
    await connection.execute(
        update(webhook_events).where(webhook_events.c.event_id == event_id).values(outcome=outcome)
    )


async def accept_signature(database: Database, digest: str, *, keep_seconds: float) -> bool:
    """Remember an accepted signature for as long as its timestamp could be accepted; False if
    it was accepted before (a replay)."""
    async with transaction(database) as connection:
        inserted = (
            await connection.execute(
                insert_or_nothing(webhook_signatures, database.dialect, ("digest",))
                .values(digest=digest, expires_at=utc_now() + timedelta(seconds=keep_seconds))
                .returning(webhook_signatures.c.id)
            )
        ).scalar_one_or_none()
    return inserted is not None


async def purge_signatures(database: Database) -> int:
    """Forget signatures whose timestamps are past any tolerance window."""
    async with transaction(database) as connection:
        result = await connection.execute(
            delete(webhook_signatures)
            .where(webhook_signatures.c.expires_at <= utc_now())
            .returning(webhook_signatures.c.id)
        )
        return len(result.all())


async def stalled_payments(
    database: Database, *, idle_for: timedelta, limit: int = 100
) -> list[int]:
    """Orders still pending whose payment never reached the provider's answer, untouched for
    ``idle_for``: their placement was interrupted and nobody retried it."""
    query = (
        select(payments.c.order_id)
        .join(orders, orders.c.id == payments.c.order_id)
        .where(
            payments.c.status == PaymentStatus.NOT_STARTED,
            orders.c.status == OrderStatus.PENDING,
            payments.c.updated_at < utc_now() - idle_for,
        )
        .order_by(payments.c.updated_at)
        .limit(limit)
    )
    async with database.connect() as connection:
        return list((await connection.execute(query)).scalars())
