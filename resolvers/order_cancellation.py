"""Cancelling an order: allowed to its customer and to staff, where the state machine allows it.

The provider is asked first (void the authorization, or refund what was taken) under keys
derived from the payment, then the cancellation is recorded in one commit with its event and
the idempotency key's answer, re-checked against the state as it is then: a webhook that came
in meanwhile is never overwritten. A crash between the two is repaired by a retry with the same
key: the provider answers the repeated call with what it did the first time.

An order that may not be cancelled (shipped, delivered, paid outside the provider) is not an
error: the payload says why (``ORDER_NOT_CANCELLABLE``), because the client can act on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.access import require
from auth.principal import Principal
from contract.errors import NotFoundError
from contract.scopes import Scope
from datasources.crashpoints import CrashPoint
from datasources.idempotency import Claim, Idempotent
from datasources.loaders import Loaders
from datasources.order_states import CancelAction, cancelled, plan_cancel
from datasources.order_writes import Locked, apply, lock_order, update_payment
from datasources.payment_provider import PaymentProvider
from datasources.payments import PaymentRecord
from datasources.resilience import Deadline
from datasources.tables import OrderStatus
from datasources.write_backends import WriteBackends
from datasources.writes import transaction
from resolvers.idempotency import key_scope
from resolvers.order_placement import WRITE_ORDERS
from resolvers.order_rules import check_reason
from resolvers.order_snapshots import OrderView, decode_view, encode_view
from resolvers.users import current_user

NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
_MISSING = "No order with this id."


@dataclass(frozen=True, slots=True)
class Cancellation:
    view: OrderView
    #: Why the order was left as it is (errors as data); None when it is cancelled.
    refusal: str | None = None


async def cancel_order(
    *,
    writes: WriteBackends,
    loaders: Loaders,
    principal: Principal,
    order_id: int,
    reason: str | None,
    idempotency_key: str | None,
    deadline: Deadline,
    request_id: str = "",
) -> Idempotent[Cancellation]:
    require(principal, WRITE_ORDERS)
    reason = check_reason(reason)
    order = await loaders.order_by_id.load(order_id)
    if order is None:
        raise NotFoundError(_MISSING)
    if Scope.ORDERS_READ_ALL not in principal.scopes:
        caller = await current_user(loaders=loaders, principal=principal)
        if caller is None or caller.id != order.user_id:
            raise NotFoundError(_MISSING)  # another customer's order reads as missing

    async def execute(claim: Claim | None) -> Cancellation:
        return await _cancel(
            writes,
            order_id=order_id,
            reason=reason,
            claim=claim,
            deadline=deadline,
            request_id=request_id,
        )

    async def decode(stored: dict[str, object]) -> Cancellation:
        refusal = stored.get("refusal")
        return Cancellation(decode_view(stored), refusal if isinstance(refusal, str) else None)

    return await writes.idempotency.run(
        scope=key_scope(principal),
        key=idempotency_key,
        operation="cancelOrder",
        request={"orderId": order_id, "reason": reason},
        deadline=deadline,
        execute=execute,
        decode=decode,
    )


def _refusal(locked: Locked) -> str:
    if locked.order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return f"A {locked.order.status.value.lower()} order can no longer be cancelled."
    return "This order was paid outside the payment provider: it cannot be refunded here."


async def _cancel(
    writes: WriteBackends,
    *,
    order_id: int,
    reason: str | None,
    claim: Claim | None,
    deadline: Deadline,
    request_id: str,
) -> Cancellation:
    store = writes.idempotency.store
    #: Kept with the order by the transition that cancels it, never by a later one.
    order_values = None if reason is None else {"cancellation_reason": reason}
    async with transaction(writes.database) as connection:
        locked = await lock_order(connection, order_id)
        if locked is None:
            raise NotFoundError(_MISSING)
        payment = locked.payment
        action = plan_cancel(
            locked.state,
            intent_known=payment is not None and payment.intent_id is not None,
            requested=payment is not None and payment.requested_at is not None,
        )
        done: Cancellation | None = None
        if action is CancelAction.NOT_CANCELLABLE:
            done = Cancellation(OrderView.of(locked), _refusal(locked))
        elif action is CancelAction.ALREADY_CANCELLED:
            done = Cancellation(OrderView.of(locked))
        elif action is CancelAction.LOCAL:
            transition = cancelled(locked.state, refund_requested=False)
            if transition is not None:
                locked, _ = await apply(connection, locked, transition, order_values=order_values)
            done = Cancellation(OrderView.of(locked))
        if done is not None and claim is not None:
            await store.complete(connection, claim, _encode(done))
    if done is not None:
        writes.events_written()
        return done
    assert payment is not None
    values = await _ask_provider(
        writes.payments,
        locked=locked,
        payment=payment,
        action=action,
        reason=reason,
        deadline=deadline,
        request_id=request_id,
    )
    writes.crash.reached(CrashPoint.AFTER_CANCEL_REQUESTED)
    async with transaction(writes.database) as connection:
        locked = await lock_order(connection, order_id)
        if locked is None:
            raise NotFoundError(_MISSING)
        transition = cancelled(locked.state, refund_requested="refund_id" in values)
        if transition is not None:
            locked, _ = await apply(
                connection, locked, transition, order_values=order_values, payment_values=values
            )
        elif values and locked.payment is not None:
            updated = await update_payment(connection, locked.payment.id, **values)
            locked = Locked(locked.order, locked.version, updated)
        result = Cancellation(OrderView.of(locked))
        if claim is not None:
            await store.complete(connection, claim, _encode(result))
    writes.events_written()
    return result


async def _ask_provider(
    provider: PaymentProvider,
    *,
    locked: Locked,
    payment: PaymentRecord,
    action: CancelAction,
    reason: str | None,
    deadline: Deadline,
    request_id: str,
) -> dict[str, object]:
    """Void or refund at the provider; the payment columns to record what it did."""
    values: dict[str, object] = {}
    intent_id = payment.intent_id
    if intent_id is None:  # FIND_AND_VOID: the intent's own key answers with its id
        intent = await provider.create_intent(
            key=payment.provider_key,
            amount=payment.amount,
            currency=payment.currency,
            order_id=locked.order.id,
            reference=locked.order.number,
            deadline=deadline,
            request_id=request_id,
        )
        intent_id = values["intent_id"] = intent.id
    if action is not CancelAction.REFUND:
        voided = await provider.cancel_intent(
            intent_id=intent_id,
            key=f"{payment.provider_key}-cancel",
            deadline=deadline,
            request_id=request_id,
        )
        if voided is not None:
            return values
        # Captured before the void reached the provider: give the money back instead.
    refund = await provider.refund(
        intent_id=intent_id,
        amount=payment.amount,
        currency=payment.currency,
        order_id=locked.order.id,
        reason=reason,
        key=f"{payment.provider_key}-refund",
        deadline=deadline,
        request_id=request_id,
    )
    values["refund_id"] = refund.id
    return values


def _encode(cancellation: Cancellation) -> dict[str, object]:
    return {**encode_view(cancellation.view), "refusal": cancellation.refusal}
