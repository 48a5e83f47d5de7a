"""What a gateway does besides answering: the housekeeping round, and the loop that runs it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from datasources.tables import idempotency_keys, payments, utc_now, webhook_signatures
from gateway.runtime.background import every, housekeeping
from tests.factories import make_user
from tests.ordering import WRITE, line, place


async def test_a_payment_left_before_the_provider_answered_is_resumed(
    gateway, connection, payments_service
):
    customer = await make_user(connection)
    payments_service.set_faults(error_rate=1.0, error_status=503)
    failed = await place(gateway, gateway.token(customer.subject, *WRITE), [line(12)])
    payments_service.clear_faults()
    await connection.execute(
        update(payments).values(updated_at=utc_now() - timedelta(hours=1))
    )  # nobody retried it for an hour

    await housekeeping(gateway.resources.writes)

    assert failed.codes == ["UPSTREAM_UNAVAILABLE"]
    row = (await connection.execute(select(payments.c.status, payments.c.intent_id))).all()[-1]
    assert row.status == "PROCESSING"
    assert row.intent_id is not None


async def test_expired_keys_and_old_signatures_are_forgotten(gateway, connection):
    now = utc_now()
    await connection.execute(
        idempotency_keys.insert().values(
            scope="user:x",
            key="old",
            operation="op",
            fingerprint="f",
            state="completed",
            response="{}",
            created_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
        )
    )
    await connection.execute(
        webhook_signatures.insert().values(digest="d" * 64, expires_at=now - timedelta(seconds=1))
    )

    await housekeeping(gateway.resources.writes)

    assert (await connection.execute(select(idempotency_keys.c.id))).all() == []
    assert (await connection.execute(select(webhook_signatures.c.id))).all() == []


async def test_a_failing_chore_is_tried_again_next_round():
    rounds = []

    async def chore() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("the database is down")

    running = asyncio.ensure_future(every(0.01, chore, "test chore"))
    await asyncio.sleep(0.1)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert len(rounds) >= 3
