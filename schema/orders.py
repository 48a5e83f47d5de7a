"""GraphQL presentation of orders and their lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from datasources.orders import OrderLineRecord, OrderRecord
from datasources.payments import PaymentRecord
from datasources.tables import OrderStatus as StoredOrderStatus
from resolvers import orders as order_resolvers
from resolvers import users as user_resolvers
from schema.connections import to_connection
from schema.context import Context
from schema.ids import node_id_of, parse_node_id
from schema.money import Money
from schema.payments import Payment
from schema.permissions import scoped

if TYPE_CHECKING:
    from schema.content import Content
    from schema.users import User


@strawberry.enum(description="Where an order is in its life.")
class OrderStatus(Enum):
    """The public names, mapped explicitly to the stored ones: renaming a database value must
    not rename a contract value without a change here."""

    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


_FROM_STORED: dict[StoredOrderStatus, OrderStatus] = {
    StoredOrderStatus.PENDING: OrderStatus.PENDING,
    StoredOrderStatus.PAID: OrderStatus.PAID,
    StoredOrderStatus.SHIPPED: OrderStatus.SHIPPED,
    StoredOrderStatus.DELIVERED: OrderStatus.DELIVERED,
    StoredOrderStatus.CANCELLED: OrderStatus.CANCELLED,
}
_TO_STORED = {public: stored for stored, public in _FROM_STORED.items()}
_new = object.__new__


def stored_status(status: OrderStatus | None) -> StoredOrderStatus | None:
    """An argument's status as the resolvers and the database know it."""
    return None if status is None else _TO_STORED[status]


@strawberry.type(description="One product line of an order.")
class OrderLine:
    """Money fields are resolved from the record when selected: a list of lines rarely asks
    for all of them, and building each costs more than reading a number."""

    record: strawberry.Private[OrderLineRecord]
    quantity: int = strawberry.field(description="Units ordered.")

    @strawberry.field(description="Price of one unit when ordered.")
    def unit_price(self) -> Money:
        return Money.of(self.record.unit_price, self.record.currency)

    @strawberry.field(description="quantity times unitPrice.")
    def subtotal(self) -> Money:
        return Money.of(order_resolvers.line_subtotal(self.record), self.record.currency)

    @classmethod
    def from_record(cls, record: OrderLineRecord) -> OrderLine:
        # Without the dataclass __init__: a page of orders makes a line object per row, and
        # Strawberry's generated __init__ costs twice these two assignments.
        line = _new(cls)
        line.record = record
        line.quantity = record.quantity
        return line

    @strawberry.field(
        description="The product bought, from the content service; null (with an UPSTREAM_* "
        "error) only when that service cannot answer."
    )
    async def content(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Content, strawberry.lazy("schema.content")] | None:
        from schema.content import content_by_id  # noqa: PLC0415 - keeps orders importable alone

        return await content_by_id(info, self.record.content_id)


@strawberry.type(description="A customer's order.")
class Order(relay.Node):
    pk: relay.NodeID[int]
    number: str = strawberry.field(description="Human-facing order number.")
    status: OrderStatus
    placed_at: datetime = strawberry.field(description="When the order was placed (UTC).")
    record: strawberry.Private[OrderRecord]
    #: Set by ``as_answered``: the payment is the one a mutation answered with, not read again.
    answered: strawberry.Private[bool] = False
    answered_payment: strawberry.Private[PaymentRecord | None] = None

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.record.total, self.record.currency)

    @classmethod
    def from_record(cls, record: OrderRecord) -> Order:
        # As OrderLine.from_record; the private fields' defaults are class attributes.
        order = _new(cls)
        order.pk = record.id
        order.number = record.number
        order.status = _FROM_STORED[record.status]
        order.placed_at = record.placed_at
        order.record = record
        return order

    @classmethod
    def as_answered(cls, record: OrderRecord, payment: PaymentRecord | None) -> Order:
        """The order as a mutation answers it, with the payment it answers beside it.

        A replayed answer is built from what the first request stored; read through the
        loaders, the payment would be today's while the order is the stored one (a PENDING
        order with a PAID payment), an answer no request ever got."""
        order = cls.from_record(record)
        order.answered = True
        order.answered_payment = payment
        return order

    @strawberry.field(description="The order's lines, in the order they were added.")
    async def lines(self, info: strawberry.Info[Context]) -> list[OrderLine]:
        records = await order_resolvers.lines_of_order(
            loaders=info.context.loaders, order_id=self.pk
        )
        return [OrderLine.from_record(record) for record in records]

    @strawberry.field(
        description="The payment, as it is now; null for orders paid before payments were recorded."
    )
    async def payment(self, info: strawberry.Info[Context]) -> Payment | None:
        if self.answered:
            record = self.answered_payment
        else:
            record = await order_resolvers.payment_of_order(
                loaders=info.context.loaders, order_id=self.pk
            )
        return None if record is None else Payment.from_record(record)

    @strawberry.field(description="Who placed the order.")
    async def customer(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        from schema.users import User  # noqa: PLC0415 - User and Order refer to each other

        record = await user_resolvers.get_customer(
            loaders=info.context.loaders, user_id=self.record.user_id
        )
        return None if record is None else User.from_record(record)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context],
        node_ids: Iterable[str],
        required: bool = False,
        **_kwargs: Any,
    ) -> list[Order | None]:
        records = await order_resolvers.get_orders(
            loaders=info.context.loaders,
            principal=info.context.principal,
            order_ids=[parse_node_id(node_id) for node_id in node_ids],
        )
        return [None if record is None else cls.from_record(record) for record in records]


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        **scoped(order_resolvers.READ_ORDERS, "An order by global id; null unless it is yours.")
    )
    async def order(self, info: strawberry.Info[Context], id: relay.GlobalID) -> Order | None:
        # The same path as node(id:), so both authorize identically.
        (order,) = await Order.resolve_nodes(info=info, node_ids=[node_id_of(id, "Order")])
        return order

    @strawberry.field(
        **scoped(
            order_resolvers.READ_ORDERS,
            "Your orders, newest first; every customer's with orders:read:all.",
        )
    )
    async def orders(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: str | None = None,
        status: OrderStatus | None = None,
    ) -> relay.Connection[Order]:
        page = await order_resolvers.list_orders(
            loaders=info.context.loaders,
            principal=info.context.principal,
            first=first,
            after=after,
            status=stored_status(status),
        )
        return to_connection(page, Order.from_record)
