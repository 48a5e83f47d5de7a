"""``gateway serve`` told to stop (SIGTERM) closes its WebSockets with 1001 "going away" after
the events already in flight, so clients reconnect to another replica. A real process."""

from __future__ import annotations

import asyncio
import signal

import pytest

from datasources.events import RedisEvents
from tests.gateway.subscriptions.clients import Closed, RawClient, connecting, order_event
from tests.processes import gateway_process

pytestmark = pytest.mark.slow

WATCH = "subscription { orderUpdated { type version } }"


async def test_sigterm_closes_subscriptions_with_1001_after_their_events(
    process_settings, identity_provider, redis_url, redis_prefix, tmp_path
):
    settings = {**process_settings, "shutdown_delay_seconds": 0.5}
    token = identity_provider.mint(subject="staff", scopes=("orders:read:all",))
    broker = RedisEvents.from_url(redis_url, prefix=redis_prefix, max_length=1000)
    try:
        with gateway_process(settings, tmp_path / "gateway.log") as gateway:
            url = gateway.base_url.replace("http://", "ws://") + "/graphql"
            async with connecting(url) as websocket:
                client = RawClient(websocket)
                await client.init({"Authorization": f"Bearer {token}"})
                await client.subscribe(WATCH)
                await asyncio.sleep(0.5)  # the subscribe takes effect (none is acknowledged)
                await broker.publish(order_event(1, 1, version=2))
                first = await client.receive()
                gateway.signal(signal.SIGTERM)
                closed = await client.closed(seconds=10)
            exit_code = await asyncio.to_thread(gateway.wait, 20)
    finally:
        await broker.close()
    assert not isinstance(first, Closed)
    assert first["payload"]["data"]["orderUpdated"] == {"type": "ORDER_PAID", "version": 2}
    assert closed == Closed(1001, "going away")
    assert exit_code == 0
