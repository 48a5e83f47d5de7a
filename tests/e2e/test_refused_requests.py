"""A refused request costs nothing downstream: no SQL statement and no upstream call."""

from __future__ import annotations

import pytest

from tests.helpers import global_id

DEEP = "{ contents { edges { node { author { orders { edges { node { lines { content { author { name } } } } } } } } } } }"


@pytest.mark.parametrize(
    ("overrides", "query", "status", "code"),
    [
        ({"max_depth": 3}, DEEP, 400, "MAX_DEPTH_LIMIT"),
        (
            {"max_aliases": 2},
            " ".join(
                ["{"]
                + [
                    f'a{i}: content(id: "{global_id("Content", i)}") {{ title }}'
                    for i in range(1, 5)
                ]
                + ["}"]
            ),
            400,
            "MAX_ALIASES_LIMIT",
        ),
        ({"max_tokens": 20}, DEEP, 400, "MAX_TOKENS_LIMIT"),
        (
            {"cost_max_per_operation": 50},
            "{ contents(first: 100) { edges { node { title } } } }",
            400,
            "COST_ESTIMATED_TOO_EXPENSIVE",
        ),
        ({}, "{ contents(first: 5) { edges { node { title } }", 400, "GRAPHQL_PARSE_FAILED"),
        ({}, "{ contents { edges { node { price } } } }", 400, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_a_refused_request_makes_no_upstream_call_and_no_sql(
    make_gateway, content_service, overrides, query, status, code
):
    gateway = await make_gateway(**overrides)
    before = content_service.requests()

    response, calls = await gateway.costed(query)

    assert response.status == status
    assert response.codes == [code]
    assert response.data is None
    assert (calls.sql, calls.content, calls.recommendations) == (0, 0, 0)
    assert content_service.requests() == before


async def test_an_exhausted_budget_makes_no_upstream_call(make_gateway, content_service):
    gateway = await make_gateway(rate_limit_budget=30, rate_limit_window_seconds=60)
    query = "{ contents(first: 10) { edges { node { title } } } }"  # costs 21
    await gateway.execute(query)
    before = content_service.requests()

    response, calls = await gateway.costed(query)

    assert response.status == 429
    assert response.codes == ["RATE_LIMITED"]
    assert (calls.sql, calls.content) == (0, 0)
    assert content_service.requests() == before
