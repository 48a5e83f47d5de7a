"""The order and payment state machine, pure: every fact's effect, and what cannot happen."""

from __future__ import annotations

import pytest

from datasources.order_states import (
    CancelAction,
    OrderEventType,
    OrderState,
    ProviderFact,
    cancelled,
    intent_created,
    needs_refund,
    on_provider,
    placed,
    plan_cancel,
)
from datasources.tables import OrderStatus as O
from datasources.tables import PaymentStatus as P


def test_a_new_order_is_pending_with_its_payment_not_started():
    assert placed().to == OrderState(O.PENDING, P.NOT_STARTED)
    assert placed().event is OrderEventType.ORDER_PLACED


@pytest.mark.parametrize(
    ("before", "fact", "after", "event"),
    [
        (
            (O.PENDING, P.PROCESSING),
            ProviderFact.AUTHORIZED,
            (O.PENDING, P.AUTHORIZED),
            "PAYMENT_AUTHORIZED",
        ),
        ((O.PENDING, P.AUTHORIZED), ProviderFact.SUCCEEDED, (O.PAID, P.PAID), "ORDER_PAID"),
        ((O.PENDING, P.PROCESSING), ProviderFact.SUCCEEDED, (O.PAID, P.PAID), "ORDER_PAID"),
        ((O.PENDING, P.NOT_STARTED), ProviderFact.SUCCEEDED, (O.PAID, P.PAID), "ORDER_PAID"),
        ((O.PENDING, P.FAILED), ProviderFact.SUCCEEDED, (O.PAID, P.PAID), "ORDER_PAID"),
        ((O.PENDING, P.AUTHORIZED), ProviderFact.FAILED, (O.PENDING, P.FAILED), "PAYMENT_FAILED"),
        (
            (O.PENDING, P.AUTHORIZED),
            ProviderFact.CANCELED,
            (O.CANCELLED, P.CANCELLED),
            "ORDER_CANCELLED",
        ),
        ((O.PAID, P.PAID), ProviderFact.REFUNDED, (O.CANCELLED, P.REFUNDED), "PAYMENT_REFUNDED"),
        (
            (O.CANCELLED, P.REFUND_PENDING),
            ProviderFact.REFUNDED,
            (O.CANCELLED, P.REFUNDED),
            "PAYMENT_REFUNDED",
        ),
    ],
)
def test_a_provider_fact_moves_the_payment_forward(before, fact, after, event):
    transition = on_provider(OrderState(*before), fact)

    assert transition is not None
    assert transition.to == OrderState(*after)
    assert transition.event.value == event


@pytest.mark.parametrize(
    ("before", "fact"),
    [
        ((O.PAID, P.PAID), ProviderFact.AUTHORIZED),
        ((O.PAID, P.PAID), ProviderFact.FAILED),
        ((O.PAID, P.PAID), ProviderFact.SUCCEEDED),
        ((O.PENDING, P.AUTHORIZED), ProviderFact.AUTHORIZED),
        ((O.PENDING, P.FAILED), ProviderFact.FAILED),
        ((O.CANCELLED, P.CANCELLED), ProviderFact.AUTHORIZED),
        ((O.CANCELLED, P.CANCELLED), ProviderFact.CANCELED),
        ((O.CANCELLED, P.REFUNDED), ProviderFact.REFUNDED),
        ((O.CANCELLED, P.REFUND_PENDING), ProviderFact.SUCCEEDED),
        ((O.PENDING, P.PROCESSING), ProviderFact.REFUNDED),
        ((O.PAID, None), ProviderFact.SUCCEEDED),
    ],
)
def test_a_late_duplicate_or_impossible_fact_changes_nothing(before, fact):
    assert on_provider(OrderState(*before), fact) is None


def test_a_capture_for_an_order_cancelled_without_the_provider_needs_a_person():
    state = OrderState(O.CANCELLED, P.CANCELLED)

    assert on_provider(state, ProviderFact.SUCCEEDED) is None
    assert needs_refund(state, ProviderFact.SUCCEEDED)
    assert not needs_refund(OrderState(O.CANCELLED, P.REFUND_PENDING), ProviderFact.SUCCEEDED)


def test_an_intent_moves_a_payment_not_started_to_processing_only():
    started = intent_created(OrderState(O.PENDING, P.NOT_STARTED))
    assert started is not None
    assert started.to.payment is P.PROCESSING
    assert intent_created(OrderState(O.PENDING, P.PAID)) is None
    assert intent_created(OrderState(O.CANCELLED, P.NOT_STARTED)) is None


@pytest.mark.parametrize(
    ("state", "intent_known", "requested", "action"),
    [
        ((O.CANCELLED, P.CANCELLED), True, True, CancelAction.ALREADY_CANCELLED),
        ((O.SHIPPED, P.PAID), True, True, CancelAction.NOT_CANCELLABLE),
        ((O.DELIVERED, None), False, False, CancelAction.NOT_CANCELLABLE),
        ((O.PAID, None), False, False, CancelAction.NOT_CANCELLABLE),
        ((O.PENDING, None), False, False, CancelAction.LOCAL),
        ((O.PENDING, P.NOT_STARTED), False, False, CancelAction.LOCAL),
        ((O.PENDING, P.NOT_STARTED), False, True, CancelAction.FIND_AND_VOID),
        ((O.PENDING, P.PROCESSING), True, True, CancelAction.VOID),
        ((O.PENDING, P.AUTHORIZED), True, True, CancelAction.VOID),
        ((O.PENDING, P.FAILED), True, True, CancelAction.VOID),
        ((O.PAID, P.PAID), True, True, CancelAction.REFUND),
    ],
)
def test_cancelling_takes_what_the_state_requires(state, intent_known, requested, action):
    assert plan_cancel(OrderState(*state), intent_known=intent_known, requested=requested) is action


def test_a_cancellation_never_moves_a_refund_backwards():
    refunded = cancelled(OrderState(O.PAID, P.REFUNDED), refund_requested=True)

    assert refunded is not None
    assert refunded.to == OrderState(O.CANCELLED, P.REFUNDED)
    refunding = cancelled(OrderState(O.PAID, P.PAID), refund_requested=True)
    assert refunding is not None
    assert refunding.to.payment is P.REFUND_PENDING
    assert cancelled(OrderState(O.SHIPPED, P.PAID), refund_requested=False) is None
    assert cancelled(OrderState(O.CANCELLED, P.CANCELLED), refund_requested=False) is None
