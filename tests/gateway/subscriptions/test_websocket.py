"""The WebSocket transport end to end: a real socket, the real pipeline, Redis Streams."""

from __future__ import annotations

from datasources.tables import OrderStatus
from tests.factories import make_order, make_user
from tests.gateway.subscriptions.clients import Closed, RawClient, connecting, order_event
from tests.helpers import global_id


async def test_a_customer_receives_their_orders_change(serve, connection):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    token = served.gateway.token(user.subject, "orders:read")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        assert await client.init({"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
        await client.subscribe(variables={"id": global_id("Order", order.id)})
        await served.until_subscriptions(1)
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        message = await client.receive()
    assert not isinstance(message, Closed)
    assert message["type"] == "next", message
    event = message["payload"]["data"]["orderUpdated"]
    assert (event["status"], event["paymentStatus"], event["version"]) == ("PAID", "PAID", 2)
    assert event["order"]["number"] == order.number
    assert event["orderId"] == global_id("Order", order.id)
