"""What tests of orders and payments say to a gateway: the mutations as a frontend sends them,
signed provider events, and readings of the order tables."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contract.webhook_signature import SIGNATURE_HEADER, signature_header
from datasources.events import OrderEvent
from datasources.tables import idempotency_keys, order_lines, orders, outbox, payments
from demo.catalog import product_price
from tests.helpers import Gateway, GraphQLResponse, global_id

WRITE = ("orders:write", "orders:read")

PLACE_ORDER = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id number status total { amount currency } lines { quantity unitPrice { amount } } }
    payment { status amount { amount currency } clientSecret }
  }
}"""

CANCEL_ORDER = """
mutation Cancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) {
    order { id status }
    payment { status }
    userErrors { code message field }
  }
}"""


def order_event(order_id: int = 1, version: int = 1) -> OrderEvent:
    """An order's event as the outbox writes it, with a fresh id."""
    return OrderEvent(
        id=str(uuid.uuid4()),
        type="ORDER_PLACED",
        order_id=order_id,
        user_id=7,
        version=version,
        status="PENDING",
        payment_status="NOT_STARTED",
        occurred_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    )


def line(content_id: int, quantity: int = 1) -> dict[str, Any]:
    return {"contentId": global_id("Content", content_id), "quantity": quantity}


def total_of(*lines: tuple[int, int]) -> str:
    return str(sum((product_price(cid) * qty for cid, qty in lines), Decimal(0)))


async def place(
    gateway: Gateway,
    token: str,
    lines: list[dict[str, Any]],
    *,
    key: str | None = None,
    currency: str | None = None,
    headers: dict[str, str] | None = None,
) -> GraphQLResponse:
    payload: dict[str, Any] = {"lines": lines}
    if key is not None:
        payload["idempotencyKey"] = key
    if currency is not None:
        payload["currency"] = currency
    return await gateway.execute(PLACE_ORDER, {"input": payload}, token=token, headers=headers)


async def cancel(
    gateway: Gateway,
    token: str,
    order_id: int,
    *,
    key: str | None = None,
    reason: str | None = None,
) -> GraphQLResponse:
    payload: dict[str, Any] = {"orderId": global_id("Order", order_id)}
    if key is not None:
        payload["idempotencyKey"] = key
    if reason is not None:
        payload["reason"] = reason
    return await gateway.execute(CANCEL_ORDER, {"input": payload}, token=token)


def order_pk(response: GraphQLResponse) -> int:
    import base64  # noqa: PLC0415

    encoded = response.data["placeOrder"]["order"]["id"]
    return int(base64.b64decode(encoded).decode().split(":")[1])


async def count(connection: AsyncConnection, table: Any) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def written(connection: AsyncConnection) -> dict[str, int]:
    """How many rows each order table holds: what a refused request must not change."""
    return {
        table.name: await count(connection, table)
        for table in (orders, order_lines, payments, idempotency_keys, outbox)
    }


def signed_event(
    event_type: str,
    subject: dict[str, Any],
    *,
    secret: str,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A provider event's body and headers, signed as the provider signs them."""
    event = {
        "id": event_id or f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": subject},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(body, [secret], stamp),
    }


def intent_object(
    intent_id: str, order_id: int, amount: int, *, status: str = "succeeded"
) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": "eur",
        "status": status,
        "metadata": {"order_id": str(order_id)},
    }
