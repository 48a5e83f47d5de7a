"""Who may watch which order events: the rule ``orderUpdated`` applies to every event.

A customer (``orders:read``) sees the events of their own orders; staff (``orders:read:all``)
see every order's. The rule is decided once, when the subscription starts (it needs the
caller's user id, a query), and then applied to each event without a query, by the event's
``user_id``. An event the caller may not see is skipped silently: another customer's order
never reaches them, not even as an error, and subscribing to an order id that is not yours
looks exactly like subscribing to one that never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.access import require
from auth.principal import Principal
from contract.scopes import Scope
from datasources.events import OrderEvent
from datasources.loaders import Loaders
from resolvers.orders import READ_ORDERS
from resolvers.users import current_user


@dataclass(frozen=True, slots=True)
class OrderWatch:
    """Which events one subscriber receives; pure, so each event costs a comparison."""

    #: Every customer's orders (staff).
    sees_all: bool
    #: The caller's own user id; None for a caller who has none (a partner without
    #: ``orders:read:all``, a subject not yet a user), who then sees nothing.
    viewer_id: int | None
    #: Only this order's events; None: every order the caller may see.
    order_id: int | None = None

    def sees(self, event: OrderEvent) -> bool:
        if self.order_id is not None and event.order_id != self.order_id:
            return False
        return self.sees_all or (self.viewer_id is not None and event.user_id == self.viewer_id)


async def watch_orders(
    *, loaders: Loaders, principal: Principal, order_id: int | None
) -> OrderWatch:
    """The caller's rule; refuses (``FORBIDDEN``) a caller with neither order scope."""
    require(principal, READ_ORDERS)
    if Scope.ORDERS_READ_ALL in principal.scopes:
        return OrderWatch(sees_all=True, viewer_id=None, order_id=order_id)
    viewer = None
    if Scope.ORDERS_READ in principal.scopes:
        user = await current_user(loaders=loaders, principal=principal)
        viewer = None if user is None else user.id
    return OrderWatch(sees_all=False, viewer_id=viewer, order_id=order_id)
