"""The Python ``gql`` client over WebSocket (graphql-transport-ws), as a partner would use it."""

from __future__ import annotations

import asyncio

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from datasources.tables import OrderStatus
from tests.factories import make_order, make_user
from tests.gateway.subscriptions.clients import order_event
from tests.helpers import global_id

WATCH = """
    subscription Watch($id: ID!) {
      orderUpdated(id: $id) { type status paymentStatus version order { number } }
    }
"""


async def test_the_gql_client_receives_an_order_event(serve, connection):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    token = served.gateway.token(user.subject, "orders:read")
    transport = WebsocketsTransport(
        url=served.ws_url,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        request = gql(WATCH)
        request.variable_values = {"id": global_id("Order", order.id)}
        events = session.subscribe(request)
        first = asyncio.ensure_future(anext(events))
        await served.until_subscriptions(1)
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        result = await asyncio.wait_for(first, 5)
        await events.aclose()
    assert result["orderUpdated"] == {
        "type": "ORDER_PAID",
        "status": "PAID",
        "paymentStatus": "PAID",
        "version": 2,
        "order": {"number": order.number},
    }
