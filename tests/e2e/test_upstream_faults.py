"""When an upstream is slow, failing or dead, only the fields that need it fail."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import make_order, make_user
from tests.helpers import Gateway, global_id


def content_query(content_id: int) -> str:
    return f'{{ me {{ name }} content(id: "{global_id("Content", content_id)}") {{ title }} }}'


async def _viewer(connection: AsyncConnection, gateway: Gateway) -> str:
    user = await make_user(connection, name="Grace")
    return gateway.token(user.subject, "users:read")


def _only_content_failed(response, code: str) -> None:
    assert response.status == 200
    assert response.data == {"me": {"name": "Grace"}, "content": None}
    assert [(error["path"], error["extensions"]["code"]) for error in response.errors] == [
        (["content"], code)
    ]


async def test_a_hanging_upstream_is_cut_off_at_the_request_deadline(
    make_gateway, connection, content_service
):
    gateway = await make_gateway(request_timeout_seconds=0.8, content_timeout_seconds=30)
    token = await _viewer(connection, gateway)
    content_service.set_faults(hang=True)

    started = time.monotonic()
    response = await gateway.execute(content_query(1), token=token)
    elapsed = time.monotonic() - started

    _only_content_failed(response, "UPSTREAM_TIMEOUT")
    assert elapsed < 0.8 + 0.5


async def test_a_slow_upstream_fails_at_its_own_timeout_inside_the_deadline(
    make_gateway, connection, content_service
):
    gateway = await make_gateway(request_timeout_seconds=10, content_timeout_seconds=0.3)
    token = await _viewer(connection, gateway)
    content_service.set_faults(latency_ms=3_000)

    started = time.monotonic()
    response = await gateway.execute(content_query(2), token=token)

    _only_content_failed(response, "UPSTREAM_TIMEOUT")
    assert time.monotonic() - started < 0.3 + 0.5


async def test_a_503_is_retried_then_reported_as_unavailable(
    make_gateway, connection, content_service
):
    gateway = await make_gateway(upstream_retry_attempts=3, upstream_retry_backoff_seconds=0.01)
    token = await _viewer(connection, gateway)
    content_service.set_faults(error_rate=1.0, error_status=503)
    before = content_service.requests()

    response = await gateway.execute(content_query(3), token=token)

    _only_content_failed(response, "UPSTREAM_UNAVAILABLE")
    assert content_service.requests() - before == 3


async def test_a_transient_503_is_absorbed_by_the_retry(make_gateway, content_service):
    gateway = await make_gateway(upstream_retry_attempts=3, upstream_retry_backoff_seconds=0.01)
    # A seeded 50% error rate: the first answer fails, a later one succeeds.
    content_service.set_faults(error_rate=0.5)

    responses = [await gateway.execute(content_query(content_id)) for content_id in range(4, 10)]

    assert all(response.errors == [] for response in responses)


async def test_a_retry_after_longer_than_the_deadline_is_not_waited_for(
    make_gateway, connection, content_service
):
    gateway = await make_gateway(request_timeout_seconds=2)
    token = await _viewer(connection, gateway)
    content_service.set_faults(error_rate=1.0, error_status=429, retry_after=30)
    before = content_service.requests()

    started = time.monotonic()
    response = await gateway.execute(content_query(10), token=token)

    _only_content_failed(response, "UPSTREAM_UNAVAILABLE")
    assert content_service.requests() - before == 1
    assert time.monotonic() - started < 1


async def test_a_client_error_from_the_upstream_is_not_retried(make_gateway, content_service):
    gateway = await make_gateway(upstream_retry_attempts=3)
    content_service.set_faults(error_rate=1.0, error_status=400)
    before = content_service.requests()

    response = await gateway.execute(content_query(11))

    assert response.codes == ["UPSTREAM_UNAVAILABLE"]
    assert content_service.requests() - before == 1


async def test_an_oversized_answer_is_dropped(make_gateway, content_service):
    gateway = await make_gateway(upstream_max_response_bytes=4096)
    content_service.set_faults(pad_bytes=20_000)

    response = await gateway.execute(content_query(12))

    assert response.data["content"] is None
    assert response.codes == ["UPSTREAM_UNAVAILABLE"]


async def test_an_unconfigured_upstream_fails_only_its_fields(make_gateway, connection):
    gateway = await make_gateway(content_url=None)
    token = await _viewer(connection, gateway)

    response = await gateway.execute(content_query(13), token=token)

    _only_content_failed(response, "UPSTREAM_UNAVAILABLE")


async def test_sql_data_is_served_when_the_content_service_is_down(
    make_gateway, connection, content_service
):
    gateway = await make_gateway(upstream_retry_attempts=1)
    user = await make_user(connection)
    await make_order(connection, user)
    content_service.set_faults(error_rate=1.0)

    response = await gateway.execute(
        "{ me { orders(first: 1) { edges { node { number lines { quantity content { title } } } } } } }",
        token=gateway.token(user.subject, "orders:read"),
    )

    (edge,) = response.data["me"]["orders"]["edges"]
    assert edge["node"]["number"]
    assert [line["content"] for line in edge["node"]["lines"]] == [None, None]
    assert [error["path"] for error in response.errors] == [
        ["me", "orders", "edges", 0, "node", "lines", 0, "content"],
        ["me", "orders", "edges", 0, "node", "lines", 1, "content"],
    ]
    assert set(response.codes) == {"UPSTREAM_UNAVAILABLE"}


async def test_sustained_failures_open_the_breaker_and_the_upstream_sees_no_more_calls(
    make_gateway, content_service
):
    gateway = await make_gateway(
        upstream_retry_attempts=1, upstream_breaker_failures=2, upstream_breaker_open_seconds=30
    )
    content_service.set_faults(error_rate=1.0)
    await gateway.execute(content_query(20))
    await gateway.execute(content_query(21))
    before = content_service.requests()

    responses = [await gateway.execute(content_query(content_id)) for content_id in range(22, 32)]

    assert all(response.codes == ["UPSTREAM_UNAVAILABLE"] for response in responses)
    # Failing fast: the open breaker answered every one without a call (not a wall-clock
    # bound, which a slow machine missed by 70 ms while no call was made).
    assert content_service.requests() == before
    assert (await gateway.http.get("/readyz")).json()["upstreams"]["content"] == "open"


async def test_a_successful_half_open_probe_closes_the_breaker(make_gateway, content_service):
    gateway = await make_gateway(
        upstream_retry_attempts=1, upstream_breaker_failures=2, upstream_breaker_open_seconds=0.3
    )
    content_service.set_faults(error_rate=1.0)
    await gateway.execute(content_query(40))
    await gateway.execute(content_query(41))
    content_service.clear_faults()
    refused = await gateway.execute(content_query(42))
    await asyncio.sleep(0.35)
    before = content_service.requests()

    probe = await gateway.execute(content_query(43))
    after_probe = await gateway.execute(content_query(44))

    assert refused.codes == ["UPSTREAM_UNAVAILABLE"]
    assert probe.errors == []
    assert after_probe.errors == []
    assert content_service.requests() - before == 2


async def test_a_failed_probe_keeps_the_breaker_open(make_gateway, content_service):
    gateway = await make_gateway(
        upstream_retry_attempts=1, upstream_breaker_failures=2, upstream_breaker_open_seconds=0.3
    )
    content_service.set_faults(error_rate=1.0)
    await gateway.execute(content_query(50))
    await gateway.execute(content_query(51))
    await asyncio.sleep(0.35)
    before = content_service.requests()

    probe = await gateway.execute(content_query(52))
    refused = await gateway.execute(content_query(53))

    assert probe.codes == refused.codes == ["UPSTREAM_UNAVAILABLE"]
    assert content_service.requests() - before == 1  # the probe only


async def test_readiness_reports_an_open_breaker_but_stays_ready(make_gateway, content_service):
    gateway = await make_gateway(
        upstream_retry_attempts=1, upstream_breaker_failures=1, upstream_breaker_open_seconds=30
    )
    content_service.set_faults(error_rate=1.0)
    await gateway.execute(content_query(60))

    response = await gateway.http.get("/readyz")

    assert response.status_code == 200
    assert response.json()["upstreams"] == {"content": "open", "recommendations": "closed"}


async def test_upstream_calls_and_latency_are_in_metrics(gateway, client):
    await gateway.execute(content_query(70))

    metrics = (await client.get("/metrics")).text

    assert (
        'manifold_datasource_requests_total{operation="GET /content?ids",source="content"} 1.0'
        in metrics
    )
    assert (
        'manifold_upstream_request_duration_seconds_count{outcome="ok",upstream="content"} 1.0'
        in metrics
    )


async def test_client_errors_from_the_upstream_count_towards_opening_the_breaker(
    make_gateway, content_service
):
    gateway = await make_gateway(
        upstream_retry_attempts=1, upstream_breaker_failures=2, upstream_breaker_open_seconds=30
    )
    content_service.set_faults(error_rate=1.0, error_status=400)
    await gateway.execute(content_query(80))
    await gateway.execute(content_query(81))
    before = content_service.requests()

    response = await gateway.execute(content_query(82))

    assert response.codes == ["UPSTREAM_UNAVAILABLE"]
    assert content_service.requests() == before
