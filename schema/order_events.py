"""``Subscription.orderUpdated``: an order's state changes, as they happen.

The source stream is the process's event fan-out (``datasources.event_fanout``), filtered by
the caller's ``OrderWatch`` (``resolvers.order_events``); each event is then executed like a
query with a fresh context (the operation pipeline's ``subscription`` module), so ``order`` is
read as it is now, through the loaders, with the same ownership rule as ``Query.order``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

from contract.errors import UpstreamError
from datasources.event_fanout import Feed
from datasources.events import OrderEvent as OrderEventRecord
from datasources.order_states import OrderEventType as StoredEventType
from resolvers import order_events as event_resolvers
from resolvers.orders import READ_ORDERS
from schema.context import Context
from schema.ids import node_id_of, parse_node_id
from schema.orders import Order, OrderStatus
from schema.payments import PaymentStatus
from schema.permissions import scoped


@strawberry.enum(description="What happened to an order.")
class OrderEventType(Enum):
    ORDER_PLACED = "ORDER_PLACED"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
    ORDER_PAID = "ORDER_PAID"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"


_EVENT_TYPES = {stored.value: OrderEventType[stored.name] for stored in StoredEventType}


@strawberry.type(description="One change of one order, in the order they happened.")
class OrderEvent:
    record: strawberry.Private[OrderEventRecord]
    id: strawberry.ID = strawberry.field(
        description="The event's id: the same event is never delivered twice with two ids."
    )
    type: OrderEventType
    order_id: relay.GlobalID = strawberry.field(description="The order's global id.")
    status: OrderStatus = strawberry.field(description="The order's status after the change.")
    payment_status: PaymentStatus | None = strawberry.field(
        description="The payment's status after the change; null before a payment exists."
    )
    version: int = strawberry.field(
        description="The order's change count (1: placed); a gap means an event was missed."
    )
    occurred_at: datetime = strawberry.field(description="When the change happened (UTC).")

    @classmethod
    def from_record(cls, record: OrderEventRecord) -> OrderEvent:
        return cls(
            record=record,
            id=strawberry.ID(record.id),
            type=_EVENT_TYPES[record.type],
            order_id=relay.GlobalID("Order", str(record.order_id)),
            status=OrderStatus(record.status),
            payment_status=None
            if record.payment_status is None
            else PaymentStatus(record.payment_status),
            version=record.version,
            occurred_at=record.occurred_at,
        )

    @strawberry.field(description="The order as it is now; null if it is no longer yours.")
    async def order(self, info: strawberry.Info[Context]) -> Order | None:
        (order,) = await Order.resolve_nodes(info=info, node_ids=[str(self.record.order_id)])
        return order


@strawberry.type
class OrdersSubscription:
    @strawberry.subscription(
        **scoped(
            READ_ORDERS,
            "Each change of your orders as it happens (of every order with orders:read:all); "
            "with `id`, of that order only. Over WebSocket (graphql-transport-ws) or "
            "Server-Sent Events (graphql-sse).",
        )
    )
    async def order_updated(
        self, info: strawberry.Info[Context], id: relay.GlobalID | None = None
    ) -> AsyncIterator[OrderEvent]:
        # Everything that can refuse runs here, at subscribe (a bad id is BAD_USER_INPUT, as
        # an answer, not a broken stream), and the feed is registered now: events from this
        # moment on are kept for the subscriber.
        context = info.context
        order_id = None if id is None else parse_node_id(node_id_of(id, "Order"))
        watch = await event_resolvers.watch_orders(
            loaders=context.loaders, principal=context.principal, order_id=order_id
        )
        if context.events is None:
            raise UpstreamError("subscriptions are not served by this process")
        return FeedEvents(context.events.follow(watch.sees))


class FeedEvents:
    """A feed's events as GraphQL ``OrderEvent``s; closing it (even unread) frees the feed."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed

    def __aiter__(self) -> FeedEvents:
        return self

    async def __anext__(self) -> OrderEvent:
        return OrderEvent.from_record(await anext(self._feed))

    async def aclose(self) -> None:
        self._feed.close()
