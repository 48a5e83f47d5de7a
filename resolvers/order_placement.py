"""Placing an order and starting its payment, exactly once however often it is retried.

Three steps, each a transaction, so a crash between any two leaves a consistent state that a
retry with the same idempotency key (or the recovery sweep, when nobody retries) carries on from:

1. **Write the order**: priced from the content service's answer now (one call), the order, its
   lines, its payment (not started), its ``ORDER_PLACED`` event and the key's checkpoint ("this
   order"), in one commit. A crash before it leaves nothing; after it, the order.
2. **Ask the provider** for an intent, under the payment's own idempotency key: marked in the
   payment (``requested_at``) first, so a cancellation knows an intent may exist. A retried
   call (after a timeout, a crash, a takeover) is answered with the same intent.
3. **Record the intent** (``PAYMENT_PROCESSING``) and complete the key with the answer, in one
   commit. A webhook may have got there first; the state machine then keeps what it said.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from auth.access import Requirement, any_of, require
from auth.principal import Principal
from contract.errors import ForbiddenError, NotFoundError
from contract.scopes import Scope
from datasources.crashpoints import CrashPoint
from datasources.idempotency import Claim, Idempotent
from datasources.loaders import Loaders
from datasources.order_writes import insert_order, lock_order, record_intent, update_payment
from datasources.payments import stalled_payments
from datasources.prices import products_now
from datasources.resilience import Deadline
from datasources.tables import OrderStatus, PaymentStatus, utc_now
from datasources.write_backends import WriteBackends
from datasources.writes import transaction
from resolvers.idempotency import key_scope
from resolvers.order_rules import LineInput, check_currency, check_lines, priced_lines
from resolvers.order_snapshots import OrderView, decode_view, encode_view
from resolvers.users import current_user

WRITE_ORDERS: Requirement = any_of(Scope.ORDERS_WRITE)


async def customer_id(*, loaders: Loaders, principal: Principal) -> int:
    """The caller's user id: orders are placed by, and for, a signed-in customer only."""
    user = await current_user(loaders=loaders, principal=principal)
    if user is None:
        raise ForbiddenError("Orders are placed by a signed-in customer, for themselves.")
    return user.id


async def place_order(
    *,
    writes: WriteBackends,
    loaders: Loaders,
    principal: Principal,
    lines: Sequence[LineInput],
    currency: str | None,
    idempotency_key: str | None,
    deadline: Deadline,
    request_id: str = "",
) -> Idempotent[OrderView]:
    require(principal, WRITE_ORDERS)
    wanted = check_lines(lines)
    currency = check_currency(currency)
    if principal.subject is None:
        raise ForbiddenError("Orders are placed by a signed-in customer, for themselves.")
    # Before the key is claimed and before anything is written: an order without a provider
    # could never be paid, and a retry once one is configured must find its key unused.
    writes.payments.require_configured()

    async def execute(claim: Claim | None) -> OrderView:
        return await _place(
            writes,
            customer=await customer_id(loaders=loaders, principal=principal),
            lines=wanted,
            currency=currency,
            claim=claim,
            deadline=deadline,
            request_id=request_id,
        )

    async def decode(stored: dict[str, object]) -> OrderView:
        return decode_view(stored)

    return await writes.idempotency.run(
        scope=key_scope(principal),
        key=idempotency_key,
        operation="placeOrder",
        request={
            "lines": [[line.content_id, line.quantity] for line in wanted],
            "currency": currency,
        },
        deadline=deadline,
        execute=execute,
        decode=decode,
    )


async def _place(
    writes: WriteBackends,
    *,
    customer: int,
    lines: list[LineInput],
    currency: str | None,
    claim: Claim | None,
    deadline: Deadline,
    request_id: str,
) -> OrderView:
    recovered = None if claim is None or claim.recovery is None else claim.recovery["order_id"]
    if isinstance(recovered, int):
        return await start_payment(writes, recovered, claim, deadline, request_id)
    products = await products_now(
        writes.content,
        [line.content_id for line in lines],
        deadline=deadline,
        request_id=request_id,
    )
    priced_in, priced = priced_lines(lines, products, currency)
    async with transaction(writes.database) as connection:
        locked, _ = await insert_order(
            connection, user_id=customer, currency=priced_in, lines=priced
        )
        if claim is not None:
            await writes.idempotency.store.checkpoint(
                connection, claim, {"order_id": locked.order.id}
            )
    writes.events_written()
    writes.crash.reached(CrashPoint.AFTER_ORDER_WRITTEN)
    return await start_payment(writes, locked.order.id, claim, deadline, request_id)


async def start_payment(
    writes: WriteBackends,
    order_id: int,
    claim: Claim | None,
    deadline: Deadline,
    request_id: str = "",
) -> OrderView:
    """Steps 2 and 3 for a written order; a no-op for one that got further (or was cancelled)
    in the meantime."""
    store = writes.idempotency.store
    async with transaction(writes.database) as connection:
        locked = await lock_order(connection, order_id)
        if locked is None:
            raise NotFoundError("The order no longer exists.")
        payment = locked.payment
        if (
            payment is None
            or payment.status is not PaymentStatus.NOT_STARTED
            or locked.order.status is not OrderStatus.PENDING
        ):
            view = OrderView.of(locked)
            if claim is not None:
                await store.complete(connection, claim, encode_view(view))
            return view
        if payment.requested_at is None:
            payment = await update_payment(connection, payment.id, requested_at=utc_now())
        if claim is not None:
            await store.checkpoint(connection, claim, {"order_id": order_id})
    intent = await writes.payments.create_intent(
        key=payment.provider_key,
        amount=payment.amount,
        currency=payment.currency,
        order_id=order_id,
        reference=locked.order.number,
        deadline=deadline,
        request_id=request_id,
    )
    writes.crash.reached(CrashPoint.AFTER_INTENT_CREATED)
    async with transaction(writes.database) as connection:
        locked = await record_intent(connection, order_id, intent.id, intent.client_secret)
        view = OrderView.of(locked)
        if claim is not None:
            await store.complete(connection, claim, encode_view(view))
    writes.events_written()
    return view


async def resume_stalled(writes: WriteBackends, *, deadline_seconds: float = 30.0) -> int:
    """Start the payments of orders whose placement was interrupted and never retried; how
    many were resumed. Safe to run on every replica: the provider's idempotency key makes two
    replicas resuming one payment ask for one intent."""
    resumed = 0
    for order_id in await stalled_payments(
        writes.database, idle_for=timedelta(seconds=writes.stalled_after_seconds)
    ):
        await start_payment(writes, order_id, None, Deadline(deadline_seconds))
        resumed += 1
    return resumed
