"""The WebSocket transport end to end: a real socket, the real pipeline, Redis Streams.

A subscriber cannot tell when its subscribe took effect (graphql-transport-ws acknowledges
none), so tests wait for the process to count it (``until_subscriptions``) before publishing.
"""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from websockets.exceptions import InvalidStatus

from datasources.tables import OrderStatus
from tests.factories import MadeOrder, MadeUser, make_order, make_user
from tests.gateway.subscriptions.clients import (
    ORDER_UPDATED,
    Closed,
    RawClient,
    connecting,
    order_event,
)
from tests.helpers import global_id, issue_key, key_service


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def customer_with_order(connection: AsyncConnection) -> tuple[MadeUser, MadeOrder]:
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    return user, order


async def test_a_customer_receives_their_orders_change(serve, connection):
    user, order = await customer_with_order(connection)
    served = await serve()
    token = served.gateway.token(user.subject, "orders:read")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        assert await client.init(bearer(token)) == {"type": "connection_ack"}
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


async def test_another_customers_order_never_reaches_a_subscriber(serve, connection):
    owner, theirs = await customer_with_order(connection)
    other, mine = await customer_with_order(connection)
    served = await serve()
    token = served.gateway.token(other.subject, "orders:read")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(token))
        await client.subscribe(variables={"id": global_id("Order", theirs.id)}, id="theirs")
        await client.subscribe(variables={}, id="all-mine")
        await served.until_subscriptions(2)
        events = served.gateway.resources.events
        await events.publish(order_event(theirs.id, owner.id))
        await events.publish(order_event(mine.id, other.id))
        first = await client.receive()
    # The other customer's event came first and reached neither subscription.
    assert not isinstance(first, Closed)
    assert first["id"] == "all-mine"
    assert first["payload"]["data"]["orderUpdated"]["orderId"] == global_id("Order", mine.id)


async def test_staff_receive_every_customers_orders(serve, connection):
    user, order = await customer_with_order(connection)
    served = await serve()
    token = served.gateway.token("staff-1", "orders:read:all")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(token))
        await client.subscribe()
        await served.until_subscriptions(1)
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        message = await client.receive()
    assert not isinstance(message, Closed)
    assert message["payload"]["data"]["orderUpdated"]["order"]["number"] == order.number


async def test_a_subscription_without_an_order_scope_is_forbidden(serve):
    served = await serve()
    token = served.gateway.token("someone", "content:read")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(token))
        await client.subscribe()
        refused = await client.receive()
        done = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["type"] == "next"
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert done == {"id": "1", "type": "complete"}
    assert served.service.fanout.subscribers == 0


async def test_a_query_runs_over_the_socket_too(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init()
        await client.subscribe("{ __typename }")
        answer, done = await client.receive(), await client.receive()
    assert not isinstance(answer, Closed)
    assert (answer["type"], answer["payload"]["data"]) == ("next", {"__typename": "Query"})
    assert done == {"id": "1", "type": "complete"}


async def test_the_client_completing_a_subscription_stops_it(serve, connection):
    user, _ = await customer_with_order(connection)
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token(user.subject, "orders:read")))
        await client.subscribe()
        await served.until_subscriptions(1)
        await client.send({"id": "1", "type": "complete"})
        await served.until_subscriptions(0)


async def test_ping_is_answered_with_pong(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}


# --- refusals before anything runs -----------------------------------------------------------


async def test_a_bad_token_at_init_closes_with_4403(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        closed = await RawClient(websocket).init(bearer("not-a-token"))
    assert isinstance(closed, Closed)
    assert closed.code == 4403


async def test_an_expired_token_at_init_closes_with_4403(serve):
    served = await serve()
    expired = served.gateway.token("u", "orders:read", exp=int(time.time()) - 3600)
    async with connecting(served.ws_url) as websocket:
        closed = await RawClient(websocket).init(bearer(expired))
    assert isinstance(closed, Closed)
    assert closed.code == 4403


async def test_a_revoked_key_at_init_closes_with_4403(serve):
    served = await serve()
    key = await issue_key(served.gateway, "orders:read:all")
    await key_service(served.gateway).revoke(key.split("_")[1])
    async with connecting(served.ws_url) as websocket:
        closed = await RawClient(websocket).init({"X-API-Key": key})
    assert closed == Closed(4403, "Forbidden: API key revoked")


async def test_the_credential_may_come_from_the_upgrade_headers(serve):
    served = await serve()
    key = await issue_key(served.gateway, "orders:read:all")
    async with connecting(served.ws_url, additional_headers={"X-API-Key": key}) as websocket:
        assert await RawClient(websocket).init() == {"type": "connection_ack"}


async def test_a_credential_in_both_the_headers_and_the_payload_is_refused(serve):
    served = await serve()
    key = await issue_key(served.gateway, "orders:read:all")
    async with connecting(served.ws_url, additional_headers={"X-API-Key": key}) as websocket:
        closed = await RawClient(websocket).init({"X-API-Key": key})
    assert isinstance(closed, Closed)
    assert closed.code == 4403


async def test_an_over_limit_document_is_refused_and_nothing_runs(serve):
    served = await serve(max_depth=2)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe()  # orderUpdated { order { … } } is three deep
        refused = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["type"] == "error"
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["MAX_DEPTH_LIMIT"]
    assert served.service.fanout.subscribers == 0


async def test_a_document_over_the_token_limit_is_refused(serve):
    served = await serve(max_tokens=20)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init()
        await client.subscribe()
        refused = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["payload"][0]["extensions"]["code"] == "MAX_TOKENS_LIMIT"


async def test_a_subscription_not_persisted_is_refused_in_persisted_only_mode(serve, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(orjson.dumps({"typename-v1": "{ __typename }"}).decode())
    served = await serve(persisted_manifest=manifest, persisted_only=True)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe()
        refused = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    assert served.service.fanout.subscribers == 0


async def test_a_subscription_over_the_cost_budget_is_refused(serve):
    served = await serve(rate_limit_budget=1)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe()
        refused = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] in {
        "RATE_LIMITED",
        "COST_ESTIMATED_TOO_EXPENSIVE",
    }


async def test_a_foreign_browser_origin_is_refused_at_the_handshake(serve):
    served = await serve(cors_origins=["https://app.example"])
    with pytest.raises(InvalidStatus) as refused:
        async with connecting(served.ws_url, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_an_allowed_browser_origin_may_connect(serve):
    served = await serve(cors_origins=["https://app.example"])
    async with connecting(served.ws_url, origin="https://app.example") as websocket:
        assert await RawClient(websocket).init() == {"type": "connection_ack"}


# --- protocol violations ---------------------------------------------------------------------


async def test_no_connection_init_in_time_closes_with_4408(serve):
    served = await serve(websocket_init_timeout_seconds=0.2)
    async with connecting(served.ws_url) as websocket:
        assert await RawClient(websocket).closed() == Closed(
            4408, "Connection initialisation timeout"
        )


async def test_a_second_connection_init_closes_with_4429(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init()
        assert await client.init() == Closed(4429, "Too many initialisation requests")


async def test_subscribe_before_the_ack_closes_with_4401(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.subscribe()
        assert await client.closed() == Closed(4401, "Unauthorized")


async def test_a_reused_operation_id_closes_with_4409(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe(id="same")
        await client.subscribe(id="same")
        closed = await client.closed()
    assert closed == Closed(4409, "Subscriber for same already exists")


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1, 2]", '{"type":"start","id":"1"}', '{"type":"subscribe","id":"1"}'],
)
async def test_a_malformed_frame_closes_with_4400(serve, frame):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init()
        await client.send(frame)
        closed = await client.closed()
    assert closed.code == 4400


async def test_a_binary_frame_closes_with_4400(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.send(b'{"type":"connection_init"}')
        assert (await client.closed()).code == 4400


async def test_a_message_over_the_size_limit_closes_with_1009(serve):
    served = await serve(websocket_max_message_bytes=1024)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init()
        await client.subscribe("{ __typename }" + " " * 2000)
        assert (await client.closed()).code == 1009


async def test_without_the_subprotocol_the_connection_closes_with_4406(serve):
    served = await serve()
    async with connecting(served.ws_url, subprotocols=()) as websocket:
        assert (await RawClient(websocket).closed()).code == 4406


async def test_a_flood_of_subscribe_messages_closes_with_4429_unexecuted(serve):
    served = await serve(websocket_message_burst=5, websocket_messages_per_second=1)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        for n in range(20):
            await client.send(
                {"id": str(n), "type": "subscribe", "payload": {"query": ORDER_UPDATED}}
            )
        closed = await client.closed()
    assert closed == Closed(4429, "Too many messages")
    assert served.service.fanout.subscribers == 0


# --- limits ----------------------------------------------------------------------------------


async def test_one_connection_over_the_maximum_closes_with_1013(serve):
    served = await serve(subscription_max_connections=1)
    async with connecting(served.ws_url) as first:
        assert await RawClient(first).init() == {"type": "connection_ack"}
        async with connecting(served.ws_url) as second:
            assert await RawClient(second).closed() == Closed(1013, "too many connections")


async def test_one_subscription_over_the_connections_maximum_is_refused(serve):
    served = await serve(subscription_max_per_connection=1)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe(id="1")
        await served.until_subscriptions(1)
        await client.subscribe(id="2")
        refused = await client.receive()
    assert not isinstance(refused, Closed)
    assert (refused["id"], refused["type"]) == ("2", "error")
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_subscriptions_per_principal_are_capped_across_connections(serve):
    served = await serve(subscription_max_per_principal=1)
    token = served.gateway.token("u", "orders:read")
    async with connecting(served.ws_url) as one, connecting(served.ws_url) as two:
        first, second = RawClient(one), RawClient(two)
        await first.init(bearer(token))
        await second.init(bearer(token))
        await first.subscribe()
        await served.until_subscriptions(1)
        await second.subscribe()
        refused = await second.receive()
    assert not isinstance(refused, Closed)
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


# --- while connected -------------------------------------------------------------------------


async def test_a_token_expiring_while_connected_closes_with_4401(serve):
    served = await serve()
    token = served.gateway.token("u", "orders:read", exp=int(time.time()) + 2)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(token))
        await client.subscribe()
        closed = await client.closed(seconds=5)
    assert closed == Closed(4401, "Unauthorized: token expired")


async def test_a_key_revoked_while_connected_stops_within_the_recheck(serve):
    served = await serve(subscription_recheck_seconds=0.2)
    key = await issue_key(served.gateway, "orders:read:all")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init({"X-API-Key": key})
        await client.subscribe()
        await served.until_subscriptions(1)
        revoked_at = time.monotonic()
        await key_service(served.gateway).revoke(key.split("_")[1])
        closed = await client.closed()
        elapsed = time.monotonic() - revoked_at
    assert closed == Closed(4403, "Forbidden: API key revoked")
    assert elapsed < 1.0


async def test_a_slow_consumer_is_disconnected_with_1008(serve, connection):
    user, order = await customer_with_order(connection)
    served = await serve(subscription_queue_size=2)
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token(user.subject, "orders:read")))
        await client.subscribe()
        await served.until_subscriptions(1)
        fanout = served.service.fanout
        for version in range(2, 12):  # faster than any subscriber executes them
            fanout.dispatch(order_event(order.id, user.id, version=version))
        closed = await client.closed()
    assert closed == Closed(1008, "slow consumer")
    assert fanout.stats.dropped >= 1


async def test_draining_sends_in_flight_events_then_closes_with_1001(serve, connection):
    user, order = await customer_with_order(connection)
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token(user.subject, "orders:read")))
        await client.subscribe()
        await served.until_subscriptions(1)
        fanout = served.service.fanout
        for version in (2, 3):
            fanout.dispatch(order_event(order.id, user.id, version=version))
        await served.service.drain_all()
        messages = [await client.receive() for _ in range(3)]
    versions = [m["payload"]["data"]["orderUpdated"]["version"] for m in messages[:2]]  # type: ignore[index]
    assert versions == [2, 3]
    assert messages[2] == Closed(1001, "going away")


async def test_metrics_count_connections_subscriptions_and_deliveries(serve, connection):
    user, order = await customer_with_order(connection)
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token(user.subject, "orders:read")))
        await client.subscribe()
        await served.until_subscriptions(1)
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        await client.receive()
        text = (await served.gateway.http.get("/metrics")).text
    assert 'manifold_subscription_connections{transport="websocket"} 1.0' in text
    assert 'manifold_subscriptions_active{transport="websocket"} 1.0' in text
    assert 'manifold_subscription_events_delivered_total{transport="websocket"} 1.0' in text
    assert "manifold_subscription_events_dropped_total 0.0" in text
    assert "manifold_subscription_lagging 0.0" in text
    await asyncio.sleep(0)


async def test_a_malformed_order_id_is_bad_user_input(serve):
    served = await serve()
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init(bearer(served.gateway.token("u", "orders:read")))
        await client.subscribe(variables={"id": "bm90LWFuLW9yZGVy"})
        refused = await client.receive()
        done = await client.receive()
    assert not isinstance(refused, Closed)
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert done == {"id": "1", "type": "complete"}
    assert served.service.fanout.subscribers == 0
