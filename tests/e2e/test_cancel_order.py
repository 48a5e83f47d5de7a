"""Specifications of cancelOrder over HTTP: who may cancel, when, and what the provider does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.tables import OrderStatus, orders, outbox, payments
from tests.conftest import WEBHOOK_SECRET
from tests.factories import make_order, make_user
from tests.ordering import WRITE, cancel, intent_object, line, order_pk, place, signed_event


async def payment_of(connection: AsyncConnection, order_id: int) -> Any:
    return (await connection.execute(select(payments).where(payments.c.order_id == order_id))).one()


async def reason_of(connection: AsyncConnection, order_id: int) -> str | None:
    reason: str | None = (
        await connection.execute(
            select(orders.c.cancellation_reason).where(orders.c.id == order_id)
        )
    ).scalar_one()
    return reason


async def events_of(connection: AsyncConnection, order_id: int) -> list[str]:
    rows = await connection.execute(
        select(outbox.c.type).where(outbox.c.order_id == order_id).order_by(outbox.c.version)
    )
    return list(rows.scalars())


async def test_cancelling_before_capture_voids_the_payment(
    gateway, connection, customer, payments_service
):
    payments_service.set_pace(authorize_ms=60_000)  # the provider is still processing it
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(3)]))

    response = await cancel(gateway, token, order_id, reason="changed my mind")

    assert response.errors == []
    assert response.data["cancelOrder"] == {
        "order": {"id": response.data["cancelOrder"]["order"]["id"], "status": "CANCELLED"},
        "payment": {"status": "CANCELLED"},
        "userErrors": [],
    }
    payment = await payment_of(connection, order_id)
    (intent,) = [i for i in payments_service.intents() if i["id"] == payment.intent_id]
    assert intent["status"] == "canceled"
    assert (await events_of(connection, order_id))[-1] == "ORDER_CANCELLED"
    assert await reason_of(connection, order_id) == "changed my mind"


async def test_cancelling_a_captured_order_refunds_it_even_before_the_webhook_says_so(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(4, 2)]))
    await asyncio.sleep(0.2)  # the provider captures it; no webhook reaches this gateway

    response = await cancel(gateway, token, order_id)

    assert response.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert response.data["cancelOrder"]["payment"]["status"] == "REFUND_PENDING"
    payment = await payment_of(connection, order_id)
    assert payment.refund_id.startswith("re_")


async def test_a_paid_order_is_refunded_and_the_refund_confirmed_by_webhook(
    gateway, connection, customer
):
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(5)]))
    payment = await payment_of(connection, order_id)
    amount = int(payment.amount * 100)
    body, headers = signed_event(
        "payment_intent.succeeded",
        intent_object(payment.intent_id, order_id, amount),
        secret=WEBHOOK_SECRET,
    )
    await gateway.http.post("/webhooks/payments", content=body, headers=headers)
    await asyncio.sleep(0.1)

    cancelled = await cancel(gateway, token, order_id)
    refund = (await payment_of(connection, order_id)).refund_id
    body, headers = signed_event(
        "refund.succeeded",
        {
            "id": refund,
            "object": "refund",
            "payment_intent": payment.intent_id,
            "amount": amount,
            "currency": "eur",
            "status": "succeeded",
            "metadata": {"order_id": str(order_id)},
        },
        secret=WEBHOOK_SECRET,
    )
    confirmed = await gateway.http.post("/webhooks/payments", content=body, headers=headers)

    assert cancelled.data["cancelOrder"]["payment"]["status"] == "REFUND_PENDING"
    assert confirmed.json()["outcome"] == "applied"
    assert (await payment_of(connection, order_id)).status == "REFUNDED"
    assert await events_of(connection, order_id) == [
        "ORDER_PLACED",
        "PAYMENT_PROCESSING",
        "ORDER_PAID",
        "ORDER_CANCELLED",
        "PAYMENT_REFUNDED",
    ]


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.DELIVERED])
async def test_a_shipped_or_delivered_order_is_not_cancellable_and_says_why(
    gateway, connection, customer, status
):
    order = await make_order(connection, customer, status=status)

    response = await cancel(gateway, gateway.token(customer.subject, *WRITE), order.id)

    assert response.errors == []
    payload = response.data["cancelOrder"]
    assert payload["order"]["status"] == status.value
    assert payload["userErrors"] == [
        {
            "code": "ORDER_NOT_CANCELLABLE",
            "message": f"A {status.value.lower()} order can no longer be cancelled.",
            "field": ["input", "orderId"],
        }
    ]


async def test_an_order_paid_outside_the_provider_is_not_cancellable(gateway, connection, customer):
    order = await make_order(connection, customer, status=OrderStatus.PAID)

    response = await cancel(gateway, gateway.token(customer.subject, *WRITE), order.id)

    assert response.data["cancelOrder"]["userErrors"][0]["code"] == "ORDER_NOT_CANCELLABLE"
    assert response.data["cancelOrder"]["order"]["status"] == "PAID"


async def test_a_pending_order_without_a_payment_is_cancelled_at_once(
    gateway, connection, customer, payments_service
):
    order = await make_order(connection, customer, status=OrderStatus.PENDING)
    before = payments_service.requests()

    response = await cancel(
        gateway, gateway.token(customer.subject, *WRITE), order.id, reason="  found it cheaper  "
    )

    assert response.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert response.data["cancelOrder"]["payment"] is None
    assert payments_service.requests() == before
    assert await reason_of(connection, order.id) == "found it cheaper"


async def test_a_refund_carries_the_reason_to_the_provider(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(6)]))
    await asyncio.sleep(0.2)  # captured

    response = await cancel(gateway, token, order_id, reason="arrived too late")

    assert response.data["cancelOrder"]["payment"]["status"] == "REFUND_PENDING"
    refund_id = (await payment_of(connection, order_id)).refund_id
    for _ in range(50):  # the provider settles the refund, then reports it
        settled = [e for e in payments_service.events() if e["data"]["object"]["id"] == refund_id]
        if settled:
            break
        await asyncio.sleep(0.05)
    assert settled[0]["data"]["object"]["metadata"] == {
        "order_id": str(order_id),
        "reason": "arrived too late",
    }
    assert await reason_of(connection, order_id) == "arrived too late"


async def test_a_reason_with_a_control_character_is_refused_and_nothing_changes(
    gateway, connection, customer
):
    order = await make_order(connection, customer, status=OrderStatus.PENDING)

    response = await cancel(
        gateway, gateway.token(customer.subject, *WRITE), order.id, reason="oops\x00"
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "reason"]
    assert await reason_of(connection, order.id) is None
    assert (
        await connection.execute(select(orders.c.status).where(orders.c.id == order.id))
    ).scalar_one() == "PENDING"


async def test_another_customers_order_reads_as_missing(gateway, connection, customer):
    stranger = await make_user(connection)
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(3)]))

    response = await cancel(gateway, gateway.token(stranger.subject, *WRITE), order_id)
    missing = await cancel(gateway, gateway.token(stranger.subject, *WRITE), order_id + 10_000)

    assert response.codes == missing.codes == ["NOT_FOUND"]
    assert response.errors[0]["message"] == missing.errors[0]["message"]
    assert (await payment_of(connection, order_id)).status == "PROCESSING"


async def test_staff_may_cancel_any_order(gateway, connection, customer, payments_service):
    payments_service.set_pace(authorize_ms=60_000)
    staff = await make_user(connection)
    order_id = order_pk(await place(gateway, gateway.token(customer.subject, *WRITE), [line(3)]))

    response = await cancel(
        gateway, gateway.token(staff.subject, "orders:write", "orders:read:all"), order_id
    )

    assert response.data["cancelOrder"]["order"]["status"] == "CANCELLED"


async def test_cancelling_needs_orders_write(gateway, connection, customer):
    order = await make_order(connection, customer, status=OrderStatus.PENDING)

    response = await cancel(gateway, gateway.token(customer.subject, "orders:read"), order.id)

    assert response.codes == ["FORBIDDEN"]


async def test_cancelling_a_cancelled_order_changes_nothing(
    gateway, connection, customer, payments_service
):
    payments_service.set_pace(authorize_ms=60_000)
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(3)]))
    await cancel(gateway, token, order_id)
    events = await events_of(connection, order_id)
    before = payments_service.requests()

    again = await cancel(gateway, token, order_id)

    assert again.errors == []
    assert again.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert again.data["cancelOrder"]["userErrors"] == []
    assert await events_of(connection, order_id) == events
    assert payments_service.requests() == before


async def test_a_cancellation_retried_with_its_key_is_answered_as_the_first(
    gateway, connection, customer, payments_service
):
    payments_service.set_pace(authorize_ms=60_000)
    token = gateway.token(customer.subject, *WRITE)
    order_id = order_pk(await place(gateway, token, [line(3)]))
    first = await cancel(gateway, token, order_id, key="cancel-1")
    before = payments_service.requests()

    retry = await cancel(gateway, token, order_id, key="cancel-1")
    other_reason = await cancel(gateway, token, order_id, key="cancel-1", reason="another")

    assert retry.data == first.data
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert payments_service.requests() == before
    assert other_reason.codes == ["IDEMPOTENCY_KEY_REUSED"]


async def test_an_order_whose_payment_may_have_reached_the_provider_is_voided_there(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    payments_service.set_faults(error_rate=1.0, error_status=503)
    failed = await place(gateway, token, [line(6)], key="place-then-cancel")
    payments_service.clear_faults()
    payments_service.set_pace(authorize_ms=60_000)
    order_id = (
        (
            await connection.execute(
                select(payments.c.order_id).where(payments.c.status == "NOT_STARTED")
            )
        )
        .scalars()
        .all()[-1]
    )

    cancelled = await cancel(gateway, token, order_id)
    resumed = await place(gateway, token, [line(6)], key="place-then-cancel")

    assert failed.codes == ["UPSTREAM_UNAVAILABLE"]
    assert cancelled.data["cancelOrder"]["payment"]["status"] == "CANCELLED"
    payment = await payment_of(connection, order_id)
    (intent,) = [i for i in payments_service.intents() if i["id"] == payment.intent_id]
    assert intent["status"] == "canceled"
    # The placement's retry finds the order cancelled and asks the provider for nothing.
    assert resumed.data["placeOrder"]["order"]["status"] == "CANCELLED"
    assert (
        len([i for i in payments_service.intents() if i["metadata"]["order_id"] == str(order_id)])
        == 1
    )
