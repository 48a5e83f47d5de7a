"""Specifications of ``POST /webhooks/payments``: signed events applied once, never backwards,
and every bad request refused with nothing written and nothing of its body logged."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.tables import orders, outbox, payments, webhook_events, webhook_signatures
from tests.conftest import WEBHOOK_SECRET
from tests.factories import make_user
from tests.helpers import Gateway
from tests.ordering import WRITE, intent_object, line, order_pk, place, signed_event, written


@pytest.fixture
async def placed(gateway, connection):
    """An order whose payment is PROCESSING at the provider: (order id, intent id, amount)."""
    customer = await make_user(connection)
    response = await place(gateway, gateway.token(customer.subject, *WRITE), [line(3, 2)])
    order_id = order_pk(response)
    row = (
        await connection.execute(
            select(payments.c.intent_id, payments.c.amount).where(payments.c.order_id == order_id)
        )
    ).one()
    return order_id, row.intent_id, int(row.amount * 100)


async def deliver(
    gateway: Gateway, event_type: str, subject: dict[str, Any], **options: Any
) -> httpx.Response:
    body, headers = signed_event(event_type, subject, secret=WEBHOOK_SECRET, **options)
    return await gateway.http.post("/webhooks/payments", content=body, headers=headers)


async def state(connection: AsyncConnection, order_id: int) -> tuple[str, str, int]:
    row = (
        await connection.execute(
            select(orders.c.status, orders.c.version, payments.c.status.label("payment"))
            .join(payments, payments.c.order_id == orders.c.id)
            .where(orders.c.id == order_id)
        )
    ).one()
    return str(row.status), str(row.payment), int(row.version)


async def events_of(connection: AsyncConnection, order_id: int) -> list[str]:
    rows = await connection.execute(
        select(outbox.c.type).where(outbox.c.order_id == order_id).order_by(outbox.c.version)
    )
    return list(rows.scalars())


async def test_a_captured_payment_marks_the_order_paid(gateway, connection, placed):
    order_id, intent_id, amount = placed

    response = await deliver(
        gateway, "payment_intent.succeeded", intent_object(intent_id, order_id, amount)
    )

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "applied"}
    assert await state(connection, order_id) == ("PAID", "PAID", 3)
    assert (await events_of(connection, order_id))[-1] == "ORDER_PAID"


async def test_a_duplicate_event_is_acknowledged_and_changes_nothing(gateway, connection, placed):
    order_id, intent_id, amount = placed
    subject = intent_object(intent_id, order_id, amount)
    await deliver(gateway, "payment_intent.succeeded", subject, event_id="evt_once")
    before = await written(connection)

    # The provider signs each delivery anew, with a later timestamp.
    again = await deliver(
        gateway,
        "payment_intent.succeeded",
        subject,
        event_id="evt_once",
        timestamp=int(time.time()) + 1,
    )

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert await written(connection) == before
    assert await state(connection, order_id) == ("PAID", "PAID", 3)


async def test_an_authorization_after_the_capture_is_ignored(gateway, connection, placed):
    order_id, intent_id, amount = placed
    await deliver(gateway, "payment_intent.succeeded", intent_object(intent_id, order_id, amount))

    late = await deliver(
        gateway,
        "payment_intent.authorized",
        intent_object(intent_id, order_id, amount, status="requires_capture"),
    )

    assert late.json()["outcome"] == "ignored"
    assert await state(connection, order_id) == ("PAID", "PAID", 3)


async def test_a_capture_before_its_authorization_is_fine(gateway, connection, placed):
    order_id, intent_id, amount = placed

    await deliver(gateway, "payment_intent.succeeded", intent_object(intent_id, order_id, amount))
    await deliver(
        gateway,
        "payment_intent.authorized",
        intent_object(intent_id, order_id, amount, status="requires_capture"),
    )

    assert await state(connection, order_id) == ("PAID", "PAID", 3)
    assert await events_of(connection, order_id) == [
        "ORDER_PLACED",
        "PAYMENT_PROCESSING",
        "ORDER_PAID",
    ]


async def test_a_declined_payment_leaves_the_order_pending_with_the_reason(
    gateway, connection, placed
):
    order_id, intent_id, amount = placed
    subject = intent_object(intent_id, order_id, amount, status="requires_payment_method")
    subject["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}

    await deliver(gateway, "payment_intent.payment_failed", subject)

    assert await state(connection, order_id) == ("PENDING", "FAILED", 3)
    reason = (
        await connection.execute(
            select(payments.c.failure_reason).where(payments.c.order_id == order_id)
        )
    ).scalar_one()
    assert reason == "Your card was declined."


async def test_a_captured_amount_other_than_the_total_changes_nothing(
    gateway, connection, placed, caplog
):
    order_id, intent_id, amount = placed

    response = await deliver(
        gateway, "payment_intent.succeeded", intent_object(intent_id, order_id, amount - 1)
    )

    assert response.json()["outcome"] == "mismatch"
    assert await state(connection, order_id) == ("PENDING", "PROCESSING", 2)


async def test_an_event_for_another_intent_or_no_known_order_is_acknowledged_unmatched(
    gateway, connection, placed
):
    order_id, _intent_id, amount = placed

    foreign = await deliver(
        gateway, "payment_intent.succeeded", intent_object("pi_someone_else", order_id, amount)
    )
    unknown = await deliver(
        gateway, "payment_intent.succeeded", intent_object("pi_x", 10**12, amount)
    )

    assert foreign.json()["outcome"] == unknown.json()["outcome"] == "unmatched"
    assert await state(connection, order_id) == ("PENDING", "PROCESSING", 2)


async def test_an_event_type_the_gateway_does_not_act_on_is_recorded_and_ignored(
    gateway, connection, placed
):
    order_id, intent_id, amount = placed

    response = await deliver(
        gateway, "charge.dispute.created", intent_object(intent_id, order_id, amount)
    )

    assert response.json()["outcome"] == "ignored"
    assert await state(connection, order_id) == ("PENDING", "PROCESSING", 2)


# --- refusals --------------------------------------------------------------------------------


def _refused_without_trace(caplog: pytest.LogCaptureFixture, body: bytes) -> None:
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "refused a payment webhook" in messages
    assert body.decode() not in messages
    assert "pi_" not in messages


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "future", "no-header", "garbled-header"],
)
async def test_a_bad_signature_is_401_with_nothing_written_or_logged(
    gateway, connection, placed, caplog, tamper
):
    order_id, intent_id, amount = placed
    subject = intent_object(intent_id, order_id, amount)
    now = int(time.time())
    stamp = {"stale": now - 301, "future": now + 301}.get(tamper)
    secret = "whsec-not-the-one" if tamper == "secret" else WEBHOOK_SECRET
    body, headers = signed_event(
        "payment_intent.succeeded", subject, secret=secret, timestamp=stamp
    )
    if tamper == "body":
        body = body.replace(str(amount).encode(), str(amount - 100).encode())
    if tamper == "no-header":
        del headers["Payment-Signature"]
    if tamper == "garbled-header":
        headers["Payment-Signature"] = "t=abc,v1=zz"
    before = await written(connection)
    caplog.set_level(logging.INFO, logger="manifold.webhooks")

    response = await gateway.http.post("/webhooks/payments", content=body, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert await written(connection) == before
    assert await state(connection, order_id) == ("PENDING", "PROCESSING", 2)
    _refused_without_trace(caplog, body)


async def test_a_replayed_signature_is_refused_and_changes_nothing(gateway, connection, placed):
    order_id, intent_id, amount = placed
    body, headers = signed_event(
        "payment_intent.succeeded",
        intent_object(intent_id, order_id, amount),
        secret=WEBHOOK_SECRET,
    )
    first = await gateway.http.post("/webhooks/payments", content=body, headers=headers)
    before = await written(connection)

    replayed = await gateway.http.post("/webhooks/payments", content=body, headers=headers)

    assert first.status_code == 200
    assert replayed.status_code == 401
    assert "used already" in replayed.json()["error"]["message"]
    assert await written(connection) == before


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"id": "evt_1"}',
        b'{"id": 5, "type": "x", "data": {"object": {}}}',
        b'{"id": "evt_\\u0000y", "type": "charge.updated", "data": {"object": {}}}',
        b'{"id": "evt_2", "type": "payment_intent.succeeded\\u0000", "data": {"object": {}}}',
        b'{"id": "evt_3", "type": "payment_intent.succeeded",'
        b' "data": {"object": {"object": "payment_intent", "id": "pi_\\u0000"}}}',
        b'{"id": "evt_4", "type": "payment_intent.payment_failed", "data": {"object":'
        b' {"id": "pi_1", "last_payment_error": {"message": "no\\u0000"}}}}',
        b'{"id": "evt_\\ud800", "type": "charge.updated", "data": {"object": {}}}',
    ],
    ids=[
        "not-json",
        "array",
        "no-data",
        "id-not-a-string",
        "nul-in-id",
        "nul-in-type",
        "nul-in-intent-id",
        "nul-in-failure-message",
        "surrogate-in-id",
    ],
)
async def test_a_signed_body_that_is_not_an_event_is_400_with_nothing_written(
    gateway, connection, caplog, body
):
    from contract.webhook_signature import signature_header  # noqa: PLC0415

    headers = {
        "Content-Type": "application/json",
        "Payment-Signature": signature_header(body, [WEBHOOK_SECRET], int(time.time())),
    }
    caplog.set_level(logging.INFO, logger="manifold.webhooks")

    response = await gateway.http.post("/webhooks/payments", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    count = (await connection.execute(select(webhook_signatures.c.id))).all()
    assert count == []
    events = (await connection.execute(select(webhook_events.c.id))).all()
    assert events == []


async def test_the_previous_secret_is_accepted_during_rotation(make_gateway, connection):
    rotating = await make_gateway(
        payments_webhook_secret="whsec-new-0123456789",
        payments_webhook_previous_secret=WEBHOOK_SECRET,
    )
    customer = await make_user(connection)
    response = await place(rotating, rotating.token(customer.subject, *WRITE), [line(3)])
    order_id = order_pk(response)
    intent_id, amount = (
        await connection.execute(
            select(payments.c.intent_id, payments.c.amount).where(payments.c.order_id == order_id)
        )
    ).one()

    old = await deliver(
        rotating, "payment_intent.authorized", intent_object(intent_id, order_id, int(amount * 100))
    )
    body, headers = signed_event(
        "payment_intent.succeeded",
        intent_object(intent_id, order_id, int(amount * 100)),
        secret="whsec-new-0123456789",
    )
    new = await rotating.http.post("/webhooks/payments", content=body, headers=headers)

    assert old.status_code == new.status_code == 200
    assert await state(connection, order_id) == ("PAID", "PAID", 4)


async def test_without_a_secret_every_webhook_is_refused(make_gateway, connection):
    unconfigured = await make_gateway(payments_webhook_secret=None)

    response = await deliver(
        unconfigured, "payment_intent.succeeded", intent_object("pi_1", 1, 100)
    )

    assert response.status_code == 401


async def test_a_body_over_the_limit_is_413(gateway):
    body = b"{" + b" " * (256 * 1024) + b"}"
    response = await gateway.http.post(
        "/webhooks/payments",
        content=body,
        headers={"Content-Type": "application/json", "Payment-Signature": "t=1,v1=" + "0" * 64},
    )

    assert response.status_code == 413


async def test_a_body_that_is_not_json_by_its_type_is_415(gateway):
    response = await gateway.http.post(
        "/webhooks/payments", content=b"a=b", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_webhooks_answer_post_only_in_their_json_shape(gateway, method):
    response = await gateway.http.request(method, "/webhooks/payments")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
