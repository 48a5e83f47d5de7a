"""Admission: excess /graphql requests are shed with 503, Retry-After and a contract code
before their bodies are read; the deadline counts time spent queueing; health endpoints are
never queued; in-flight, queued and shed requests are in the metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.helpers import JSON_HEADERS

SLOW = {"query": "{ contents(first: 1) { edges { node { title } } } }"}


async def test_requests_beyond_the_limit_and_queue_are_shed_with_503_and_retry_after(
    make_gateway, content_service
):
    gateway = await make_gateway(
        max_concurrent_operations=1, max_queued_operations=0, overload_retry_after_seconds=3
    )
    content_service.set_faults(latency_ms=300)

    answers = await asyncio.gather(
        *(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS) for _ in range(4))
    )

    shed = [answer for answer in answers if answer.status_code == 503]
    assert len(shed) == 3
    assert [answer.status_code for answer in answers].count(200) == 1
    for answer in shed:
        assert answer.headers["Retry-After"] == "3"
        assert answer.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert answer.headers["content-type"].startswith("application/graphql-response+json")
    metrics = (await gateway.http.get("/metrics")).text
    assert 'manifold_requests_shed_total{reason="queue_full"} 3.0' in metrics


async def test_a_shed_request_is_refused_before_its_body_is_read(make_gateway, content_service):
    gateway = await make_gateway(max_concurrent_operations=1, max_queued_operations=0)
    content_service.set_faults(latency_ms=300)
    read: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        read.append(True)
        yield b'{"query": "{ __typename }"}'

    running = asyncio.create_task(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS))
    await asyncio.sleep(0.05)
    shed = await gateway.http.post("/graphql", content=body(), headers=JSON_HEADERS)
    await running

    assert shed.status_code == 503
    assert read == []


async def test_a_queued_request_waits_for_a_slot_and_is_served(make_gateway, content_service):
    gateway = await make_gateway(max_concurrent_operations=1, max_queued_operations=4)
    content_service.set_faults(latency_ms=100)

    answers = await asyncio.gather(
        *(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS) for _ in range(3))
    )

    assert [answer.status_code for answer in answers] == [200, 200, 200]


async def test_a_request_queued_past_the_queue_timeout_is_shed(make_gateway, content_service):
    gateway = await make_gateway(
        max_concurrent_operations=1, max_queued_operations=4, queue_timeout_seconds=0.05
    )
    content_service.set_faults(latency_ms=300)

    first, second = await asyncio.gather(
        *(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS) for _ in range(2))
    )

    assert sorted([first.status_code, second.status_code]) == [200, 503]


async def test_time_spent_queueing_counts_against_the_deadline(make_gateway, content_service):
    gateway = await make_gateway(
        max_concurrent_operations=1,
        max_queued_operations=4,
        queue_timeout_seconds=5,
        request_timeout_seconds=0.5,
        content_timeout_seconds=5,
    )
    content_service.set_faults(latency_ms=400)

    first, second = await asyncio.gather(
        *(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS) for _ in range(2))
    )

    # The second waited ~0.4 s in the queue: its content call had ~0.1 s left, not 0.5 s.
    codes = [
        [error["extensions"]["code"] for error in answer.json().get("errors", [])]
        for answer in (first, second)
    ]
    assert sorted(codes) == [[], ["UPSTREAM_TIMEOUT"]]


async def test_health_and_readiness_are_never_queued(make_gateway, content_service):
    gateway = await make_gateway(max_concurrent_operations=1, max_queued_operations=0)
    content_service.set_faults(latency_ms=300)

    running = asyncio.create_task(gateway.http.post("/graphql", json=SLOW, headers=JSON_HEADERS))
    await asyncio.sleep(0.05)
    ready, alive = await asyncio.gather(gateway.http.get("/readyz"), gateway.http.get("/healthz"))
    await running

    assert ready.status_code == 200
    assert alive.status_code == 200


async def test_in_flight_and_limit_are_in_the_metrics(gateway):
    await gateway.execute("{ __typename }")

    metrics = (await gateway.http.get("/metrics")).text

    assert "manifold_operations_in_flight 0.0" in metrics
    assert "manifold_concurrency_limit 32.0" in metrics
    assert "manifold_operations_queued 0.0" in metrics
