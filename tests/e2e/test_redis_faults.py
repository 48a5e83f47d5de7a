"""A private Redis that the test freezes and stops under the gateway: requests keep being
served in time (cache bypassed, budgets open), readiness stays 200 and says "degraded", and
everything comes back by itself when Redis does."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.private_servers import private_redis

pytestmark = pytest.mark.faults

QUERY = '{ content(id: "Q29udGVudDoyMQ==") { title } }'


async def degraded_readiness(gateway, *, degraded: bool):
    for _ in range(60):
        response = await gateway.http.get("/readyz")
        if ("redis" in response.json()["degraded"]) is degraded:
            return response
        await asyncio.sleep(0.1)
    return response


async def test_a_frozen_then_stopped_redis_degrades_but_never_unreadies_the_gateway(
    make_gateway,
):
    with private_redis() as redis:
        gateway = await make_gateway(
            redis_url=redis.url, readiness_interval_seconds=0.1, request_timeout_seconds=2
        )
        healthy = await gateway.execute(QUERY)

        redis.freeze()
        started = time.monotonic()
        frozen = await gateway.execute(QUERY)
        frozen_seconds = time.monotonic() - started
        frozen_readiness = await degraded_readiness(gateway, degraded=True)
        redis.thaw()

        redis.stop()
        stopped = await gateway.execute(QUERY)
        stopped_readiness = await degraded_readiness(gateway, degraded=True)

        redis.start()
        recovered_readiness = await degraded_readiness(gateway, degraded=False)

    for response in (healthy, frozen, stopped):
        assert response.errors == []
        assert response.data["content"]["title"]
    assert frozen_seconds < 2
    for readiness in (frozen_readiness, stopped_readiness):
        assert readiness.status_code == 200
        assert readiness.json()["status"] == "degraded"
    assert recovered_readiness.json()["status"] == "ready"
