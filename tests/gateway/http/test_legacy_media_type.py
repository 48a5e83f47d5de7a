"""``Accept: application/json``, the legacy media type: a client can trust only a 200 there, so a
GraphQL request error is answered 200 (it is 400 with application/graphql-response+json, see
test_protocol.py); requests that are not well-formed and refusals of the caller keep theirs."""

from __future__ import annotations

import pytest

from tests.helpers import codes

LEGACY = {"Content-Type": "application/json", "Accept": "application/json"}

REQUEST_ERRORS = [
    pytest.param({}, {"query": "{ me { id "}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({}, {"query": "{ me { shoeSize } }"}, "GRAPHQL_VALIDATION_FAILED", id="invalid"),
    pytest.param(
        {},
        {"query": "query A { me { id } }", "operationName": "B"},
        "GRAPHQL_VALIDATION_FAILED",
        id="no-such-operation",
    ),
    pytest.param(
        {},
        {
            "query": "query($n: Int) { users(first: $n) { edges { cursor } } }",
            "variables": {"n": "x"},
        },
        "BAD_USER_INPUT",
        id="coercion",
    ),
    pytest.param(
        {},
        {"query": "query($s: String) { content(slug: $s) { id } }", "variables": {"s": "a\x00"}},
        "BAD_USER_INPUT",
        id="control-character",
    ),
    pytest.param(
        {"max_depth": 2},
        {"query": "{ me { orders { edges { cursor } } } }"},
        "MAX_DEPTH_LIMIT",
        id="depth-limit",
    ),
    pytest.param(
        {"introspection": False},
        {"query": "{ __schema { types { name } } }"},
        "INTROSPECTION_DISABLED",
        id="introspection-off",
    ),
]


@pytest.mark.parametrize(("overrides", "body", "code"), REQUEST_ERRORS)
async def test_a_graphql_request_error_is_200_without_data(make_gateway, overrides, body, code):
    gateway = await make_gateway(**overrides)

    response, statements = await gateway.request("POST", json=body, headers=LEGACY)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "data" not in response.json()
    assert codes(response) == [code]
    assert statements == 0


@pytest.mark.parametrize(("overrides", "body", "code"), REQUEST_ERRORS)
async def test_the_same_error_is_400_with_the_graphql_response_type(
    make_gateway, overrides, body, code
):
    gateway = await make_gateway(**overrides)

    response, _ = await gateway.post(body)

    assert response.status_code == 400
    assert codes(response) == [code]


async def test_a_get_without_accept_header_is_answered_in_the_legacy_type(gateway):
    response, _ = await gateway.request("GET", params={"query": "{"}, headers={"Accept": ""})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        pytest.param(b"{not json", 400, id="not-json"),
        pytest.param(b'{"qeury": "{ me { id } }"}', 400, id="no-query"),
        pytest.param(b'{"query": "{ me { id } }", "variables": [7]}', 400, id="variables-list"),
    ],
)
async def test_a_request_that_is_not_well_formed_keeps_its_4xx(gateway, content, status):
    response, _ = await gateway.request("POST", content=content, headers=LEGACY)

    assert response.status_code == status
    assert codes(response) == ["BAD_USER_INPUT"]


async def test_a_bad_credential_is_still_401(gateway):
    response, _ = await gateway.request(
        "POST",
        json={"query": "{ me { id } }"},
        headers={**LEGACY, "Authorization": "Bearer not-a-token"},
    )

    assert response.status_code == 401


async def test_a_mutation_over_get_is_still_405(gateway):
    response, _ = await gateway.request(
        "GET",
        params={"query": 'mutation { revokeApiKey(id: "x") { id } }'},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 405


async def test_an_exhausted_budget_is_still_429(make_gateway):
    gateway = await make_gateway(rate_limit_budget=4)
    query = {"query": "{ contents(first: 1) { edges { node { title } } } }"}

    first, _ = await gateway.request("POST", json=query, headers=LEGACY)
    second, _ = await gateway.request("POST", json=query, headers=LEGACY)

    assert (first.status_code, second.status_code) == (200, 429)
    assert codes(second) == ["RATE_LIMITED"]


async def test_a_batch_is_200_as_before(make_gateway):
    gateway = await make_gateway(batch_max_operations=2)

    response, _ = await gateway.request(
        "POST", json=[{"query": "{ me { id } }"}, {"query": "{"}], headers=LEGACY
    )

    assert response.status_code == 200
