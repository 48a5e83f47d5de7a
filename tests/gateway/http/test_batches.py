"""Batched requests: one deadline for the whole HTTP request, budget feedback once, status 200."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.helpers import Gateway

CONTENTS = "{ contents(first: 10) { edges { node { id } } } }"  # costs 21


async def post_batch(gateway: Gateway, operations: list[dict[str, Any]]) -> httpx.Response:
    return await gateway.http.post("/graphql", json=operations)


async def test_a_batch_with_a_rate_limited_operation_is_200_with_the_refusal_in_that_operation(
    make_gateway,
):
    gateway = await make_gateway(batch_max_operations=5, rate_limit_budget=50)

    response = await post_batch(gateway, [{"query": CONTENTS}] * 3)

    assert response.status_code == 200
    answers = response.json()
    assert [bool(answer.get("data")) for answer in answers] == [True, True, False]
    assert answers[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_batch_reports_the_budget_once_as_it_stands_after_the_last_operation(
    make_gateway,
):
    gateway = await make_gateway(batch_max_operations=5, rate_limit_budget=100)

    response = await post_batch(gateway, [{"query": CONTENTS}] * 2)

    assert response.headers.get_list("RateLimit-Remaining") == ["58"]
    assert response.headers.get_list("RateLimit-Limit") == ["100"]


async def test_a_batch_shares_one_deadline_across_its_operations(make_gateway, content_service):
    gateway = await make_gateway(
        batch_max_operations=5, request_timeout_seconds=0.6, content_timeout_seconds=30
    )
    content_service.set_faults(hang=True)
    operations = [{"query": f'{{ content(slug: "hang-{n}") {{ title }} }}'} for n in range(4)]

    started = time.monotonic()
    response = await post_batch(gateway, operations)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    codes = [answer["errors"][0]["extensions"]["code"] for answer in response.json()]
    assert codes == ["UPSTREAM_TIMEOUT"] * 4
    assert elapsed < 0.6 + 0.5


async def test_browsers_may_read_the_budget_headers(make_gateway):
    gateway = await make_gateway(cors_origins=("https://app.example",))

    response = await gateway.http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": "https://app.example"}
    )

    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed
