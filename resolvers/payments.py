"""Applying the payment provider's events: each once, in any order, never backwards.

Called by the webhook endpoint once the signature is verified. One transaction per event: the
event id is recorded first (a second delivery, even one arriving while the first is being
applied, finds it and changes nothing), then the order is locked and the state machine decides
what the event changes given the state as it is. An event that says something already known,
or older than what is known (``AUTHORIZED`` after ``PAID``), is recorded and changes nothing;
an event that applies makes exactly one transition with its outbox event.

Events the gateway cannot tie to one of its payments (another integration's, or one naming an
intent other than the order's) are acknowledged and recorded as ``unmatched``, so the provider
stops redelivering them; an amount that differs from the order's is logged as an error and
applied to nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from datasources.db import Database
from datasources.order_states import ProviderFact, needs_refund, on_provider
from datasources.order_writes import Locked, apply, lock_order
from datasources.payment_provider import ProviderEvent, to_minor_units
from datasources.payments import record_webhook_event, set_webhook_outcome
from datasources.writes import transaction

logger = logging.getLogger("manifold.payments")


class EventOutcome(StrEnum):
    APPLIED = "applied"
    #: Already known, out of date, or of a type the gateway does not act on.
    IGNORED = "ignored"
    UNMATCHED = "unmatched"
    MISMATCH = "mismatch"
    NEEDS_ATTENTION = "needs_attention"
    #: Delivered before: nothing recorded, nothing changed.
    DUPLICATE = "duplicate"


def _judge(locked: Locked | None, event: ProviderEvent) -> EventOutcome | None:
    """Why the event changes nothing before the state machine is asked; None to ask it."""
    if event.fact is None:
        return EventOutcome.IGNORED
    if locked is None or locked.payment is None:
        return EventOutcome.UNMATCHED
    payment = locked.payment
    if payment.intent_id is not None and event.intent_id != payment.intent_id:
        logger.warning("a payment event names another intent than its order's; ignored")
        return EventOutcome.UNMATCHED
    if event.fact is ProviderFact.SUCCEEDED and (
        event.currency != payment.currency
        or event.amount_minor != to_minor_units(payment.amount, payment.currency)
    ):
        logger.error(
            "order %d: the provider captured an amount other than its total", locked.order.id
        )
        return EventOutcome.MISMATCH
    return None


async def apply_payment_event(
    *, database: Database, event: ProviderEvent, events_written: Callable[[], None]
) -> EventOutcome:
    async with transaction(database) as connection:
        first = await record_webhook_event(
            connection,
            database.dialect,
            event_id=event.id,
            event_type=event.type,
            order_id=event.order_id,
            outcome="pending",
        )
        if not first:
            return EventOutcome.DUPLICATE
        locked = None if event.order_id is None else await lock_order(connection, event.order_id)
        outcome = _judge(locked, event)
        if outcome is None:
            assert locked is not None
            assert locked.payment is not None
            assert event.fact is not None
            transition = on_provider(locked.state, event.fact)
            if transition is not None:
                values: dict[str, object] = {}
                if locked.payment.intent_id is None and event.intent_id is not None:
                    values["intent_id"] = event.intent_id
                if event.fact is ProviderFact.FAILED and event.failure_reason:
                    values["failure_reason"] = event.failure_reason
                await apply(connection, locked, transition, payment_values=values)
                outcome = EventOutcome.APPLIED
            elif needs_refund(locked.state, event.fact):
                logger.error(
                    "order %d was cancelled but the provider captured its payment: refund it",
                    locked.order.id,
                )
                outcome = EventOutcome.NEEDS_ATTENTION
            else:
                outcome = EventOutcome.IGNORED
        await set_webhook_outcome(connection, event.id, outcome.value)
    if outcome is EventOutcome.APPLIED:
        events_written()
    return outcome
