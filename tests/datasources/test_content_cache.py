"""The shared content cache: read-through, TTL from the upstream, negative entries, one flight."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from datasources.content import ContentSource
from tests.bodies import result
from tests.helpers import global_id

QUERY = f'{{ content(id: "{global_id("Content", 21)}") {{ title }} }}'


@pytest.fixture
async def redis(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_second_identical_query_makes_no_content_call(gateway, content_service):
    before = content_service.requests()

    first, first_calls = await gateway.costed(QUERY)
    second, second_calls = await gateway.costed(QUERY)

    assert first.data == second.data
    assert first_calls.content == 1
    assert second_calls.content == 0
    assert content_service.requests() - before == 1


async def test_the_cache_is_shared_by_gateways_on_one_redis(gateway, make_gateway, content_service):
    other = await make_gateway()
    await gateway.execute(QUERY)

    response, calls = await other.costed(QUERY)

    assert response.data["content"]["title"]
    assert calls.content == 0


async def test_fifty_concurrent_misses_for_one_id_make_one_upstream_call(gateway, content_service):
    before = content_service.requests()

    responses = await asyncio.gather(*(gateway.execute(QUERY) for _ in range(50)))

    assert {response.data["content"]["title"] for response in responses} != {None}
    assert all(response.errors == [] for response in responses)
    assert content_service.requests() - before == 1
    assert gateway.calls("content") == 1


async def test_an_unknown_id_is_remembered_briefly(gateway, content_service):
    query = f'{{ content(id: "{global_id("Content", 987_654)}") {{ title }} }}'

    await gateway.execute(query)
    response, calls = await gateway.costed(query)

    assert result(response.body) == {"data": {"content": None}}
    assert calls.content == 0


async def test_entries_live_as_long_as_the_upstreams_max_age(gateway, redis, redis_prefix):
    await gateway.execute(QUERY)

    ttl_ms = await redis.pttl(redis_prefix + ContentSource.cache_key(21))

    assert 55_000 < ttl_ms <= 60_000  # the demo service sends Cache-Control: max-age=60


async def test_the_configured_ceiling_caps_the_upstreams_max_age(make_gateway, redis, redis_prefix):
    gateway = await make_gateway(content_cache_max_ttl_seconds=5)
    await gateway.execute(QUERY)

    ttl_ms = await redis.pttl(redis_prefix + ContentSource.cache_key(21))

    assert 0 < ttl_ms <= 5_000


async def test_negative_entries_use_the_short_negative_ttl(make_gateway, redis, redis_prefix):
    gateway = await make_gateway(content_cache_negative_ttl_seconds=2)
    await gateway.execute(f'{{ content(id: "{global_id("Content", 987_655)}") {{ title }} }}')

    ttl_ms = await redis.pttl(redis_prefix + ContentSource.cache_key(987_655))

    assert 0 < ttl_ms <= 2_000


def test_cache_keys_carry_a_version_so_a_new_encoding_never_reads_an_old_one():
    assert ContentSource.cache_key(21) == "content:v1:21"


async def test_hits_and_misses_are_in_metrics(gateway, client):
    await gateway.execute(QUERY)
    await gateway.execute(QUERY)

    metrics = (await client.get("/metrics")).text

    assert 'manifold_cache_requests_total{cache="content",result="miss"} 1.0' in metrics
    assert 'manifold_cache_requests_total{cache="content",result="hit"} 1.0' in metrics


async def test_without_redis_the_in_process_cache_serves_repeats(make_gateway):
    gateway = await make_gateway(redis_url=None)

    await gateway.execute(QUERY)
    response, calls = await gateway.costed(QUERY)

    assert response.data["content"]["title"]
    assert calls.content == 0


async def test_cached_items_of_a_batch_are_served_when_the_content_service_is_down(
    gateway, content_service
):
    """Only the uncached item fails: the outage costs what the cache cannot answer, no more."""
    cached, uncached = global_id("Content", 31), global_id("Content", 32)
    await gateway.execute(f'{{ content(id: "{cached}") {{ title }} }}')
    content_service.set_faults(error_rate=1.0)

    response, calls = await gateway.costed(
        f'{{ a: content(id: "{cached}") {{ title }} b: content(id: "{uncached}") {{ title }} }}'
    )

    assert response.data["a"]["title"]
    assert response.data["b"] is None
    assert [(error["path"], error["extensions"]["code"]) for error in response.errors] == [
        (["b"], "UPSTREAM_UNAVAILABLE")
    ]
    assert calls.content >= 1
