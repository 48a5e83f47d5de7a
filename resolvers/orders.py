"""Reading orders: a customer sees their own, staff (``orders:read:all``) see everyone's.

An order the caller may not see is reported exactly like one that does not exist, so ids cannot
be probed for existence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from decimal import Decimal

from auth.access import Requirement, any_of, require
from auth.principal import Principal
from contract.scopes import Scope
from datasources.loaders import Loaders
from datasources.orders import OrderLineRecord, OrderPageKey, OrderRecord, parse_order_cursor
from datasources.pagination import Page, check_first
from datasources.payments import PaymentRecord
from datasources.tables import OrderStatus
from resolvers.users import current_user

READ_ORDERS: Requirement = any_of(Scope.ORDERS_READ, Scope.ORDERS_READ_ALL)


async def _viewer_id(*, loaders: Loaders, principal: Principal) -> int | None:
    """The caller's own user id when it may read its own orders; None otherwise."""
    if Scope.ORDERS_READ not in principal.scopes:
        return None
    user = await current_user(loaders=loaders, principal=principal)
    return None if user is None else user.id


async def _visible_to(*, loaders: Loaders, principal: Principal, owner_id: int) -> bool:
    if Scope.ORDERS_READ_ALL in principal.scopes:
        return True
    return await _viewer_id(loaders=loaders, principal=principal) == owner_id


async def get_orders(
    *, loaders: Loaders, principal: Principal, order_ids: Sequence[int]
) -> list[OrderRecord | None]:
    require(principal, READ_ORDERS)
    records = await loaders.order_by_id.load_many(list(order_ids))
    if Scope.ORDERS_READ_ALL in principal.scopes:
        return list(records)
    viewer = await _viewer_id(loaders=loaders, principal=principal)
    return [record if record and record.user_id == viewer else None for record in records]


def _page_key(
    *, user_id: int | None, first: int | None, after: str | None, status: OrderStatus | None
) -> OrderPageKey:
    return OrderPageKey(
        user_id=user_id,
        first=check_first(first),
        after=None if after is None else parse_order_cursor(after),
        status=status,
    )


async def list_orders(
    *,
    loaders: Loaders,
    principal: Principal,
    first: int | None,
    after: str | None,
    status: OrderStatus | None,
) -> Page[OrderRecord]:
    """Staff page through every order; anyone else through their own."""
    require(principal, READ_ORDERS)
    if Scope.ORDERS_READ_ALL in principal.scopes:
        key = _page_key(user_id=None, first=first, after=after, status=status)
        return await loaders.order_page.load(key)
    viewer = await _viewer_id(loaders=loaders, principal=principal)
    key = _page_key(user_id=viewer, first=first, after=after, status=status)
    if viewer is None:
        return Page.empty()
    return await loaders.order_page.load(key)


async def orders_of_user(
    *,
    loaders: Loaders,
    principal: Principal,
    user_id: int,
    first: int | None,
    after: str | None,
    status: OrderStatus | None,
) -> Page[OrderRecord]:
    """One customer's orders; another customer's look empty, as if they had none."""
    require(principal, READ_ORDERS)
    key = _page_key(user_id=user_id, first=first, after=after, status=status)
    if not await _visible_to(loaders=loaders, principal=principal, owner_id=user_id):
        return Page.empty()
    return await loaders.order_page.load(key)


def lines_of_order(*, loaders: Loaders, order_id: int) -> Awaitable[list[OrderLineRecord]]:
    """Lines of an order the caller already holds, so visibility was checked on the order.

    The loader's future itself rather than a coroutine awaiting it: this runs once per order
    in a list, and a coroutine frame of its own would be resumed at every step.
    """
    return loaders.lines_by_order.load(order_id)


async def payment_of_order(*, loaders: Loaders, order_id: int) -> PaymentRecord | None:
    """The payment of an order the caller already holds (visibility was checked on it)."""
    return await loaders.payment_by_order.load(order_id)


def line_subtotal(line: OrderLineRecord) -> Decimal:
    return line.unit_price * line.quantity
