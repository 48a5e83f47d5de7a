"""Redis restarting under a subscription: no crash, and the subscriber keeps receiving (a short
outage) or is told (a long one). A private redis-server, never the shared one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.gateway.subscriptions.clients import Closed, RawClient, connecting, order_event
from tests.private_servers import PrivateRedis
from tests.private_servers import private_redis as start_private_redis

pytestmark = pytest.mark.faults

WATCH = "subscription { orderUpdated { type version } }"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with start_private_redis() as server:
        yield server


async def publish_until_accepted(served, event, seconds: float = 10.0) -> None:
    """Publish as the outbox does: retried until the broker takes it."""
    events = served.gateway.resources.events
    for _ in range(int(seconds / 0.1)):
        try:
            await events.publish(event)
            return
        except Exception:
            await asyncio.sleep(0.1)
    raise AssertionError("the broker never came back")


async def test_a_subscriber_keeps_receiving_after_redis_restarts(serve, private_redis):
    served = await serve(redis_url=private_redis.url, rate_limit_enabled=False)
    token = served.gateway.token("staff", "orders:read:all")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init({"Authorization": f"Bearer {token}"})
        await client.subscribe(WATCH)
        await served.until_subscriptions(1)
        private_redis.stop()
        await asyncio.sleep(1.0)  # the reader fails and retries meanwhile
        private_redis.start()
        await publish_until_accepted(served, order_event(7, 1, version=5))
        message = await client.receive(seconds=10)
    assert not isinstance(message, Closed), message
    assert message["payload"]["data"]["orderUpdated"] == {"type": "ORDER_PAID", "version": 5}
    assert served.service.fanout.stats.broker_failures >= 1
    assert (await served.gateway.http.get("/healthz")).status_code == 200


async def test_a_long_redis_outage_tells_the_subscriber_then_completes(serve, private_redis):
    served = await serve(
        redis_url=private_redis.url,
        rate_limit_enabled=False,
        subscription_broker_outage_seconds=0.5,
    )
    token = served.gateway.token("staff", "orders:read:all")
    async with connecting(served.ws_url) as websocket:
        client = RawClient(websocket)
        await client.init({"Authorization": f"Bearer {token}"})
        await client.subscribe(WATCH)
        await served.until_subscriptions(1)
        private_redis.stop()
        told = await client.receive(seconds=10)
        done = await client.receive(seconds=5)
        private_redis.start()
    assert not isinstance(told, Closed), told
    assert told["type"] == "next"
    assert told["payload"]["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert done == {"id": "1", "type": "complete"}
