"""The order and payment state machine: which change each fact may cause, and which it may not.

Pure functions over ``OrderState``, applied by the writers inside the transaction that locked the
rows, so every change is checked against the state as it is, not as a request remembered it.
Every change returns the event it publishes; ``None`` means "nothing changes", which is how a
duplicate or an out-of-order provider event is absorbed: a payment never moves backwards
(``AUTHORIZED`` after ``PAID`` changes nothing), and each transition is one event with the next
version of its order.

Order status (what the customer sees)::

    PENDING ──paid──▶ PAID ──(fulfilment)──▶ SHIPPED ──▶ DELIVERED
       │               │
       └──cancel──▶ CANCELLED ◀──cancel (refund)

Payment status (what the provider says)::

    NOT_STARTED ─▶ PROCESSING ─▶ AUTHORIZED ─▶ PAID ─▶ REFUND_PENDING ─▶ REFUNDED
        │              │             │          ▲
        └──────────────┴─────────────┴─▶ FAILED ┘ (a later attempt may still succeed)
        NOT_STARTED/PROCESSING/AUTHORIZED/FAILED ─▶ CANCELLED (voided: nothing was taken)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from datasources.tables import OrderStatus, PaymentStatus


class OrderEventType(StrEnum):
    """What happened to an order; the ``type`` of the events its subscribers receive."""

    ORDER_PLACED = "ORDER_PLACED"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
    ORDER_PAID = "ORDER_PAID"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"


class ProviderFact(StrEnum):
    """What a provider event says about an intent (or its refund)."""

    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class OrderState:
    order: OrderStatus
    #: None for orders placed before payments existed (the seed data).
    payment: PaymentStatus | None


@dataclass(frozen=True, slots=True)
class Transition:
    to: OrderState
    event: OrderEventType


_S = PaymentStatus
_BEFORE_CAPTURE = frozenset({_S.NOT_STARTED, _S.PROCESSING, _S.AUTHORIZED})

#: Provider facts: the payment states each may leave, where it goes, and the event it makes.
_PROVIDER_RULES: dict[ProviderFact, tuple[frozenset[PaymentStatus], PaymentStatus]] = {
    ProviderFact.AUTHORIZED: (frozenset({_S.NOT_STARTED, _S.PROCESSING}), _S.AUTHORIZED),
    ProviderFact.SUCCEEDED: (_BEFORE_CAPTURE | {_S.FAILED}, _S.PAID),
    ProviderFact.FAILED: (_BEFORE_CAPTURE, _S.FAILED),
    ProviderFact.CANCELED: (_BEFORE_CAPTURE | {_S.FAILED}, _S.CANCELLED),
    ProviderFact.REFUNDED: (frozenset({_S.PAID, _S.REFUND_PENDING}), _S.REFUNDED),
}

_PAYMENT_EVENTS = {
    _S.AUTHORIZED: OrderEventType.PAYMENT_AUTHORIZED,
    _S.PAID: OrderEventType.ORDER_PAID,
    _S.FAILED: OrderEventType.PAYMENT_FAILED,
    _S.CANCELLED: OrderEventType.ORDER_CANCELLED,
    _S.REFUNDED: OrderEventType.PAYMENT_REFUNDED,
}


def placed() -> Transition:
    """A new order: pending, its payment not started."""
    return Transition(OrderState(OrderStatus.PENDING, _S.NOT_STARTED), OrderEventType.ORDER_PLACED)


def intent_created(state: OrderState) -> Transition | None:
    """The provider accepted the intent; a webhook may have told us more already."""
    if state.payment is not _S.NOT_STARTED or state.order is not OrderStatus.PENDING:
        return None
    return Transition(OrderState(state.order, _S.PROCESSING), OrderEventType.PAYMENT_PROCESSING)


def on_provider(state: OrderState, fact: ProviderFact) -> Transition | None:
    """The change a provider event causes, or None (a duplicate, late or impossible event)."""
    if state.payment is None:
        return None
    allowed_from, payment = _PROVIDER_RULES[fact]
    if state.payment not in allowed_from:
        return None
    order = state.order
    if fact is ProviderFact.SUCCEEDED:
        if order is not OrderStatus.PENDING:
            return None  # money taken for an order no longer pending: see needs_refund
        order = OrderStatus.PAID
    elif fact in (ProviderFact.CANCELED, ProviderFact.REFUNDED) and order in (
        OrderStatus.PENDING,
        OrderStatus.PAID,
    ):
        order = OrderStatus.CANCELLED
    return Transition(OrderState(order, payment), _PAYMENT_EVENTS[payment])


def needs_refund(state: OrderState, fact: ProviderFact) -> bool:
    """A capture reported for an order cancelled without the provider's agreement: the one
    case that needs a person (it cannot happen while cancellations ask the provider first)."""
    return (
        fact is ProviderFact.SUCCEEDED
        and state.order is OrderStatus.CANCELLED
        and state.payment in _BEFORE_CAPTURE | {_S.FAILED, _S.CANCELLED}
    )


class CancelAction(StrEnum):
    """What cancelling an order in a given state takes."""

    ALREADY_CANCELLED = "already_cancelled"
    NOT_CANCELLABLE = "not_cancellable"
    #: Nothing reached the provider: cancel here.
    LOCAL = "local"
    #: An intent may exist but its id is unknown: ask the provider for it (the same
    #: idempotency key answers with it), then void it.
    FIND_AND_VOID = "find_and_void"
    #: Release the authorization (or the failed intent) at the provider.
    VOID = "void"
    #: Money was taken: refund it.
    REFUND = "refund"


def plan_cancel(state: OrderState, *, intent_known: bool, requested: bool) -> CancelAction:
    """How to cancel an order; ``requested``: the provider may have been asked for an intent."""
    payment = state.payment
    if state.order is OrderStatus.CANCELLED:
        action = CancelAction.ALREADY_CANCELLED
    elif state.order in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        action = CancelAction.NOT_CANCELLABLE
    elif payment is None:
        # Paid outside the provider (seed data): there is nothing to refund through it.
        pending = state.order is OrderStatus.PENDING
        action = CancelAction.LOCAL if pending else CancelAction.NOT_CANCELLABLE
    elif payment is _S.NOT_STARTED and not intent_known:
        action = CancelAction.FIND_AND_VOID if requested else CancelAction.LOCAL
    elif payment in _BEFORE_CAPTURE | {_S.FAILED}:
        action = CancelAction.VOID
    elif payment is _S.PAID:
        action = CancelAction.REFUND
    else:
        action = CancelAction.LOCAL  # voided or refunded already: only the order is left
    return action


def cancelled(state: OrderState, *, refund_requested: bool) -> Transition | None:
    """The order cancelled here, after the provider agreed (voided, or a refund requested)."""
    if state.order is OrderStatus.CANCELLED or state.order not in (
        OrderStatus.PENDING,
        OrderStatus.PAID,
    ):
        return None
    payment: PaymentStatus | None
    if state.payment is None:
        payment = None
    elif state.payment in (_S.REFUND_PENDING, _S.REFUNDED):
        payment = state.payment  # the refund is under way or done already: never backwards
    elif refund_requested:
        payment = _S.REFUND_PENDING
    else:
        payment = _S.CANCELLED
    return Transition(OrderState(OrderStatus.CANCELLED, payment), OrderEventType.ORDER_CANCELLED)
