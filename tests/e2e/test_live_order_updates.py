"""The acceptance of live order updates, with real processes: two gateways sharing Redis and
PostgreSQL, a customer subscribed on B sees PENDING then PAID within a second of the payment
webhook being delivered to A, and another customer subscribed to the same order sees nothing.

Marked ``slow``: two gateway processes and a scratch database of the test's own.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.tables import payments, users
from tests.conftest import WEBHOOK_SECRET
from tests.gateway.subscriptions.clients import Closed, RawClient, connecting
from tests.helpers import JSON_HEADERS
from tests.ordering import PLACE_ORDER, intent_object, line, signed_event
from tests.replicas import GatewayProcess, gateway_process

pytestmark = pytest.mark.slow

WATCH = """
subscription Watch($id: ID) { orderUpdated(id: $id) { type status paymentStatus version } }
"""


@pytest.fixture
def settings(
    tmp_path, scratch_url, redis_url, redis_prefix, identity_provider, upstream_services
) -> dict[str, Any]:
    content, recommendations, payments_service = upstream_services
    return {
        "env": "dev",
        "data_dir": tmp_path,
        "database_url": scratch_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "oauth_issuer": identity_provider.issuer,
        "oauth_audience": identity_provider.audience,
        "oauth_jwks_url": identity_provider.jwks_url,
        "content_url": content.base_url,
        "recommendations_url": recommendations.base_url,
        "payments_url": payments_service.base_url,
        "payments_webhook_secret": WEBHOOK_SECRET,
        "rate_limit_budget": 10**6,
    }


async def customer(scratch: AsyncEngine, identity_provider: Any) -> str:
    subject = f"customer-{uuid.uuid4().hex[:8]}"
    async with scratch.begin() as connection:
        await connection.execute(
            users.insert().values(subject=subject, name="C", email=f"{subject}@test.example")
        )
    token: str = identity_provider.mint(subject=subject, scopes=("orders:read", "orders:write"))
    return token


async def subscriptions_on(client: httpx.AsyncClient, gateway: GatewayProcess) -> float:
    text = (await client.get(gateway.url + "/metrics")).text
    for line_ in text.splitlines():
        if line_.startswith('manifold_subscriptions_active{transport="websocket"}'):
            return float(line_.rsplit(" ", 1)[1])
    return 0.0


async def until_subscriptions(client: httpx.AsyncClient, gateway: GatewayProcess, n: int) -> None:
    for _ in range(500):
        if await subscriptions_on(client, gateway) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {n} subscriptions on {gateway.url}")


def ws_url(gateway: GatewayProcess) -> str:
    return gateway.url.replace("http://", "ws://") + "/graphql"


async def next_event(client: RawClient, seconds: float = 5.0) -> dict[str, Any]:
    message = await client.receive(seconds)
    assert not isinstance(message, Closed), message
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["orderUpdated"]
    return event


async def test_a_subscriber_on_b_sees_paid_within_a_second_of_the_webhook_on_a(
    tmp_path, settings, scratch, identity_provider
):
    buyer = await customer(scratch, identity_provider)
    stranger = await customer(scratch, identity_provider)
    async with (
        gateway_process(settings, log_dir=tmp_path, name="a") as a,
        gateway_process(settings, log_dir=tmp_path, name="b") as b,
        httpx.AsyncClient(timeout=30.0) as http,
        connecting(ws_url(b)) as buyer_socket,
        connecting(ws_url(b)) as stranger_socket,
    ):
        watcher, other = RawClient(buyer_socket), RawClient(stranger_socket)
        assert await watcher.init({"Authorization": f"Bearer {buyer}"}) == {
            "type": "connection_ack"
        }
        assert await other.init({"Authorization": f"Bearer {stranger}"}) == {
            "type": "connection_ack"
        }
        await watcher.subscribe(WATCH)
        await until_subscriptions(http, b, 1)

        placed = await http.post(
            a.url + "/graphql",
            json={"query": PLACE_ORDER, "variables": {"input": {"lines": [line(3, 2)]}}},
            headers={**JSON_HEADERS, "Authorization": f"Bearer {buyer}"},
        )
        order = placed.json()["data"]["placeOrder"]["order"]
        order_id = int(base64.b64decode(order["id"]).decode().split(":")[1])
        await other.subscribe(WATCH, {"id": order["id"]})
        await until_subscriptions(http, b, 2)

        seen = [await next_event(watcher)]
        while seen[-1]["paymentStatus"] not in ("PROCESSING", "AUTHORIZED"):
            seen.append(await next_event(watcher))
        assert {event["status"] for event in seen} == {"PENDING"}

        async with scratch.connect() as connection:
            payment = (
                await connection.execute(
                    select(payments.c.intent_id, payments.c.amount).where(
                        payments.c.order_id == order_id
                    )
                )
            ).one()
        body, headers = signed_event(
            "payment_intent.succeeded",
            intent_object(payment.intent_id, order_id, int(payment.amount * 100)),
            secret=WEBHOOK_SECRET,
        )
        delivered_at = time.monotonic()
        answer = await http.post(a.url + "/webhooks/payments", content=body, headers=headers)
        assert answer.json()["outcome"] == "applied", answer.text
        paid = await next_event(watcher, seconds=1.0)
        latency = time.monotonic() - delivered_at

        assert (paid["type"], paid["status"], paid["paymentStatus"]) == (
            "ORDER_PAID",
            "PAID",
            "PAID",
        )
        assert latency < 1.0
        print(f"webhook on A -> event on B: {latency * 1000:.0f} ms")
        # The other customer, subscribed to the same order, received nothing at all (not
        # even an error) in the second after it.
        assert await silent_for(other, 1.0)


async def silent_for(client: RawClient, seconds: float) -> bool:
    """Whether nothing but server pings arrived for ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if '"ping"' not in str(await client.connection.recv()):
                    return False
    except TimeoutError:
        return True
