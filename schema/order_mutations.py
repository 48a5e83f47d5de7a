"""Placing and cancelling orders: Relay-style inputs and payloads over the order use cases."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from contract.errors import BadUserInputError
from resolvers import order_cancellation, order_placement
from resolvers.order_rules import LineInput, input_error, line_error
from schema.context import Context
from schema.idempotency import keyed, writes_of
from schema.ids import node_id_of, parse_node_id
from schema.orders import Order
from schema.payments import Payment
from schema.permissions import scoped

_KEY_DESCRIPTION = (
    "Makes retries safe: a retry with the same key and input is answered as the first request "
    "was, without running again. Or send the Idempotency-Key header (not both, unless equal)."
)


@strawberry.input(description="One product and how many of it.")
class OrderLineInput:
    content_id: strawberry.ID = strawberry.field(description="A product's id (Content.id).")
    quantity: int = strawberry.field(description="1 to 99.")


@strawberry.input
class PlaceOrderInput:
    lines: list[OrderLineInput] = strawberry.field(
        description="1 to 50 lines, each product once. Prices are the catalog's, never sent."
    )
    currency: str | None = strawberry.field(
        default=None,
        description="The currency you expect to pay in (ISO 4217); refused if the products "
        "are priced in another.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY_DESCRIPTION)


@strawberry.type
class PlaceOrderPayload:
    order: Order = strawberry.field(description="The order, PENDING until the payment is taken.")
    payment: Payment = strawberry.field(
        description="The payment as the provider first answered, with its client secret."
    )


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The order's id (Order.id).")
    reason: str | None = strawberry.field(
        default=None,
        description="Why (at most 500 printable characters): kept with the order, and sent to "
        "the provider with a refund.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY_DESCRIPTION)


@strawberry.enum(description="Why a mutation left things as they were.")
class UserErrorCode(Enum):
    ORDER_NOT_CANCELLABLE = strawberry.enum_value(
        "ORDER_NOT_CANCELLABLE",
        description="Shipped, delivered, or paid outside the payment provider.",
    )


@strawberry.type(description="A refusal the client can act on, returned as data.")
class UserError:
    code: UserErrorCode
    message: str
    field: list[str] | None = strawberry.field(description="The input field it concerns.")


@strawberry.type
class CancelOrderPayload:
    order: Order
    payment: Payment | None
    user_errors: list[UserError] = strawberry.field(
        description="Empty when the order is cancelled (or already was)."
    )


def _database_id(value: str, type_name: str) -> int:
    """The row id in a global id of ``type_name``; ``BadUserInputError`` otherwise."""
    try:
        global_id = relay.GlobalID.from_id(value)
    except GlobalIDValueError:
        raise BadUserInputError("Malformed id") from None
    return parse_node_id(node_id_of(global_id, type_name))


def _lines(lines: list[OrderLineInput]) -> list[LineInput]:
    parsed: list[LineInput] = []
    for index, line in enumerate(lines):
        try:
            content_id = _database_id(line.content_id, "Content")
        except BadUserInputError as error:
            raise line_error(index, "contentId", error.message) from None
        parsed.append(LineInput(content_id=content_id, quantity=line.quantity))
    return parsed


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        **scoped(
            order_placement.WRITE_ORDERS,
            "Place an order for yourself; its payment starts with the provider at once.",
        )
    )
    async def place_order(
        self, info: strawberry.Info[Context], input: PlaceOrderInput
    ) -> PlaceOrderPayload:
        context = info.context
        lines = _lines(input.lines)
        view = await keyed(
            info,
            input.idempotency_key,
            lambda key: order_placement.place_order(
                writes=writes_of(info),
                loaders=context.loaders,
                principal=context.principal,
                lines=lines,
                currency=input.currency,
                idempotency_key=key,
                deadline=context.deadline,
                request_id=context.request_id,
            ),
        )
        assert view.payment is not None  # a placed order always has one
        return PlaceOrderPayload(
            order=Order.as_answered(view.order, view.payment),
            payment=Payment.from_record(view.payment, with_secret=True),
        )

    @strawberry.mutation(
        **scoped(
            order_placement.WRITE_ORDERS,
            "Cancel your order (any order with orders:read:all) while it is pending or paid; "
            "a paid order is refunded.",
        )
    )
    async def cancel_order(
        self, info: strawberry.Info[Context], input: CancelOrderInput
    ) -> CancelOrderPayload:
        context = info.context
        try:
            order_id = _database_id(input.order_id, "Order")
        except BadUserInputError as error:
            raise input_error(error.message, "orderId") from None
        outcome = await keyed(
            info,
            input.idempotency_key,
            lambda key: order_cancellation.cancel_order(
                writes=writes_of(info),
                loaders=context.loaders,
                principal=context.principal,
                order_id=order_id,
                reason=input.reason,
                idempotency_key=key,
                deadline=context.deadline,
                request_id=context.request_id,
            ),
        )
        view = outcome.view
        errors = (
            []
            if outcome.refusal is None
            else [
                UserError(
                    code=UserErrorCode.ORDER_NOT_CANCELLABLE,
                    message=outcome.refusal,
                    field=["input", "orderId"],
                )
            ]
        )
        return CancelOrderPayload(
            order=Order.as_answered(view.order, view.payment),
            payment=None if view.payment is None else Payment.from_record(view.payment),
            user_errors=errors,
        )
