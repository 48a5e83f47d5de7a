"""An event is executed once for the subscriptions of one caller with one document and
variables, and once per caller otherwise: what one caller's screens share, no other caller
does."""

from __future__ import annotations

from contextlib import AsyncExitStack

from datasources.tables import OrderStatus
from tests.factories import make_order, make_user
from tests.gateway.subscriptions.clients import Closed, RawClient, connecting, order_event


async def watch_all(served, stack: AsyncExitStack, token: str, count: int) -> list[RawClient]:
    clients = []
    for _ in range(count):
        websocket = await stack.enter_async_context(connecting(served.ws_url))
        client = RawClient(websocket)
        await client.init({"Authorization": f"Bearer {token}"})
        await client.subscribe()
        clients.append(client)
    return clients


async def test_one_callers_subscriptions_share_one_execution_per_event(serve, connection):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    shared = served.gateway.resources.pipeline.shared_events
    token = served.gateway.token("staff-1", "orders:read:all")
    async with AsyncExitStack() as stack:
        clients = await watch_all(served, stack, token, 5)
        await served.until_subscriptions(5)
        before = shared.executed
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        messages = [await client.receive() for client in clients]

    assert shared.executed - before == 1
    # The same data for all; each answer keeps its own cost report.
    assert not any(isinstance(message, Closed) for message in messages)
    answers = [message["payload"]["data"] for message in messages]  # type: ignore[index]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["orderUpdated"]["order"]["number"] == order.number


async def test_two_callers_with_the_same_scopes_execute_each_their_own(serve, connection):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    shared = served.gateway.resources.pipeline.shared_events
    async with AsyncExitStack() as stack:
        first = await watch_all(
            served, stack, served.gateway.token("staff-1", "orders:read:all"), 1
        )
        second = await watch_all(
            served, stack, served.gateway.token("staff-2", "orders:read:all"), 1
        )
        await served.until_subscriptions(2)
        before = shared.executed
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        for client in (*first, *second):
            message = await client.receive()
            assert not isinstance(message, Closed)
            assert message["type"] == "next"

    assert shared.executed - before == 2
