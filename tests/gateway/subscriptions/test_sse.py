"""GraphQL over Server-Sent Events (graphql-sse, distinct connections), over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from datasources.tables import OrderStatus
from tests.factories import make_order, make_user
from tests.gateway.subscriptions.clients import ORDER_UPDATED, order_event
from tests.helpers import global_id

STREAM = {"Accept": "text/event-stream", "Content-Type": "application/json"}


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) pairs of an event stream; comments (keep-alives) skipped."""
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: ") or line == "data:":
            data = line[len("data:") :].strip()
        elif line == "" and kind:
            yield kind, orjson.loads(data) if data else None
            kind, data = "", ""


async def test_a_subscription_streams_its_events_over_sse(serve, connection):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    token = served.gateway.token(user.subject, "orders:read")
    body = {"query": ORDER_UPDATED, "variables": {"id": global_id("Order", order.id)}}
    async with (
        httpx.AsyncClient(base_url=served.http_url, timeout=10) as client,
        client.stream(
            "POST", "/graphql", json=body, headers={**STREAM, "Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        first = asyncio.ensure_future(anext(stream))
        await served.until_subscriptions(1)
        await served.gateway.resources.events.publish(order_event(order.id, user.id))
        kind, data = await asyncio.wait_for(first, 5)
    assert kind == "next"
    assert data["data"]["orderUpdated"]["status"] == "PAID"


async def test_a_query_over_sse_is_one_next_then_complete(serve):
    served = await serve()
    async with httpx.AsyncClient(base_url=served.http_url, timeout=10) as client:
        response = await client.get(
            "/graphql", params={"query": "{ __typename }"}, headers={"Accept": "text/event-stream"}
        )
    received = [item async for item in events(response)]
    assert [kind for kind, _ in received] == ["next", "complete"]
    assert received[0][1]["data"] == {"__typename": "Query"}


async def test_a_bad_credential_is_a_401_before_any_stream(serve):
    served = await serve()
    async with httpx.AsyncClient(base_url=served.http_url, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={"query": ORDER_UPDATED},
            headers={**STREAM, "Authorization": "Bearer nope"},
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert served.service.fanout.subscribers == 0


async def test_a_foreign_origin_is_refused_with_403(serve):
    served = await serve(cors_origins=["https://app.example"])
    async with httpx.AsyncClient(base_url=served.http_url, timeout=10) as client:
        response = await client.get(
            "/graphql",
            params={"query": ORDER_UPDATED},
            headers={"Accept": "text/event-stream", "Origin": "https://evil.example"},
        )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_over_limit_document_is_refused_with_400_unexecuted(serve):
    served = await serve(max_depth=2)
    token = served.gateway.token("u", "orders:read")
    async with httpx.AsyncClient(base_url=served.http_url, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={"query": ORDER_UPDATED},
            headers={**STREAM, "Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "MAX_DEPTH_LIMIT"
    assert served.service.fanout.subscribers == 0


async def test_a_token_expiring_mid_stream_ends_it_with_an_error(serve):
    import time  # noqa: PLC0415

    served = await serve()
    token = served.gateway.token("u", "orders:read", exp=int(time.time()) + 2)
    async with (
        httpx.AsyncClient(base_url=served.http_url, timeout=10) as client,
        client.stream(
            "POST",
            "/graphql",
            json={"query": ORDER_UPDATED},
            headers={**STREAM, "Authorization": f"Bearer {token}"},
        ) as response,
    ):
        received = [item async for item in events(response)]
    assert [kind for kind, _ in received] == ["next", "complete"]
    assert received[0][1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_draining_replica_ends_the_stream_after_its_events_without_complete(
    serve, connection
):
    user = await make_user(connection)
    order = await make_order(connection, user, status=OrderStatus.PENDING)
    served = await serve()
    token = served.gateway.token(user.subject, "orders:read")
    async with (
        httpx.AsyncClient(base_url=served.http_url, timeout=10) as client,
        client.stream(
            "POST",
            "/graphql",
            json={"query": ORDER_UPDATED},
            headers={**STREAM, "Authorization": f"Bearer {token}"},
        ) as response,
    ):
        stream = events(response)
        await served.until_subscriptions(1)
        served.service.fanout.dispatch(order_event(order.id, user.id))
        served.service.shutdown.draining = True  # as SIGTERM sets it, for this app only
        try:
            await served.service.drain_all()
            received = [item async for item in stream]
        finally:
            served.service.shutdown.reset()
    assert [kind for kind, _ in received] == ["next"]
    assert received[0][1]["data"]["orderUpdated"]["status"] == "PAID"


async def test_a_stream_over_the_callers_maximum_is_refused_with_429(serve):
    served = await serve(subscription_max_per_principal=1)
    token = served.gateway.token("u", "orders:read")
    headers = {**STREAM, "Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=served.http_url, timeout=10) as client,
        client.stream("POST", "/graphql", json={"query": ORDER_UPDATED}, headers=headers) as first,
    ):
        assert first.status_code == 200
        await served.until_subscriptions(1)
        second = await client.post("/graphql", json={"query": ORDER_UPDATED}, headers=headers)
    assert second.status_code == 429
    assert second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
