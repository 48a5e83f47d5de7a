"""An order and its payment as a mutation answered them, and their stored form.

A retried mutation is answered with the stored snapshot: the order as it was when the first
request finished, not as it is now (``order(id:)`` says that), exactly as a replayed HTTP
response would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from datasources.order_writes import Locked
from datasources.orders import OrderRecord
from datasources.payments import PaymentRecord
from datasources.tables import OrderStatus, PaymentStatus


@dataclass(frozen=True, slots=True)
class OrderView:
    order: OrderRecord
    payment: PaymentRecord | None

    @classmethod
    def of(cls, locked: Locked) -> OrderView:
        return cls(locked.order, locked.payment)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_view(view: OrderView) -> dict[str, Any]:
    order, payment = view.order, view.payment
    return {
        "order": {
            "id": order.id,
            "number": order.number,
            "userId": order.user_id,
            "status": order.status.value,
            "currency": order.currency,
            "total": str(order.total),
            "placedAt": _time(order.placed_at),
        },
        "payment": None
        if payment is None
        else {
            "id": payment.id,
            "status": payment.status.value,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "providerKey": payment.provider_key,
            "requestedAt": _time(payment.requested_at),
            "intentId": payment.intent_id,
            "clientSecret": payment.client_secret,
            "refundId": payment.refund_id,
            "failureReason": payment.failure_reason,
        },
    }


def decode_view(data: dict[str, Any]) -> OrderView:
    order, payment = data["order"], data["payment"]
    placed_at = _parse_time(order["placedAt"])
    assert placed_at is not None
    return OrderView(
        order=OrderRecord(
            id=order["id"],
            number=order["number"],
            user_id=order["userId"],
            status=OrderStatus(order["status"]),
            currency=order["currency"],
            total=Decimal(order["total"]),
            placed_at=placed_at,
        ),
        payment=None
        if payment is None
        else PaymentRecord(
            id=payment["id"],
            order_id=order["id"],
            status=PaymentStatus(payment["status"]),
            amount=Decimal(payment["amount"]),
            currency=payment["currency"],
            provider_key=payment["providerKey"],
            requested_at=_parse_time(payment["requestedAt"]),
            intent_id=payment["intentId"],
            client_secret=payment["clientSecret"],
            refund_id=payment["refundId"],
            failure_reason=payment["failureReason"],
        ),
    )
