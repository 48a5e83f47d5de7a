"""A raw graphql-transport-ws client for the protocol tests: every frame is the test's, so a
test can send what no well-behaved library would (and read the close code it earns)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from datasources.events import OrderEvent

SUBPROTOCOL = "graphql-transport-ws"

ORDER_UPDATED = """
subscription Watch($id: ID) {
  orderUpdated(id: $id) { id type status paymentStatus version orderId order { number status } }
}
"""


@dataclass
class Closed:
    code: int
    reason: str


class RawClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            await self.connection.send(orjson.dumps(message).decode())
        else:
            await self.connection.send(message)

    async def receive(self, seconds: float = 5.0) -> dict[str, Any] | Closed:
        """The next message other than a server ping, or how the connection closed."""
        while True:
            try:
                async with asyncio.timeout(seconds):
                    frame = await self.connection.recv()
            except ConnectionClosed as closed:
                received = closed.rcvd
                return Closed(
                    received.code if received else 1006, received.reason if received else ""
                )
            message: dict[str, Any] = orjson.loads(frame)
            if message.get("type") != "ping":
                return message

    async def closed(self, seconds: float = 5.0) -> Closed:
        while True:
            message = await self.receive(seconds)
            if isinstance(message, Closed):
                return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any] | Closed:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, query: str = ORDER_UPDATED, variables: dict[str, Any] | None = None, id: str = "1"
    ) -> None:
        await self.send(
            {
                "id": id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )


def connecting(url: str, *, subprotocols: tuple[str, ...] = (SUBPROTOCOL,), **kwargs: Any) -> Any:
    return connect(url, subprotocols=list(subprotocols) or None, open_timeout=5, **kwargs)  # type: ignore[arg-type]


def order_event(
    order_id: int, user_id: int, *, version: int = 2, status: str = "PAID"
) -> OrderEvent:
    return OrderEvent(
        id=str(uuid.uuid4()),
        type="ORDER_PAID" if status == "PAID" else "ORDER_PLACED",
        order_id=order_id,
        user_id=user_id,
        version=version,
        status=status,
        payment_status=status if status == "PAID" else "NOT_STARTED",
        occurred_at=datetime.now(UTC),
    )
