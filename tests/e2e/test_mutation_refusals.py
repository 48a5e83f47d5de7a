"""The order and profile mutations meet every rule queries meet, refused before anything runs:
no SQL statement, no content, recommendations or payment call, no row written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import make_user
from tests.helpers import JSON_HEADERS, Calls, Gateway, GraphQLResponse
from tests.ordering import WRITE, line, written

PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }"
CANCEL = "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id } } }"
PROFILE = 'mutation { updateProfile(input: {name: "X"}) { user { id } } }'
NOTHING = Calls(sql=0, content=0, recommendations=0, payments=0)

MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "placeOrder": (PLACE, {"input": {"lines": [line(3)]}}),
    "cancelOrder": (CANCEL, {"input": {"orderId": "T3JkZXI6MQ=="}}),
    "updateProfile": (PROFILE, {}),
}
SCOPES = (*WRITE, "users:write")


@pytest.fixture
async def token_for(connection):
    user = await make_user(connection)
    return lambda gateway: gateway.token(user.subject, *SCOPES)


async def refused(
    gateway: Gateway,
    query: str,
    variables: dict[str, Any],
    token: str,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[GraphQLResponse, Calls]:
    response, calls = await gateway.costed(query, variables=variables, token=token, headers=headers)
    return response, calls


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_over_the_cost_limit_is_refused_unexecuted(
    make_gateway, connection, token_for, mutation
):
    gateway = await make_gateway(cost_max_per_operation=5)
    before = await written(connection)
    query, variables = MUTATIONS[mutation]

    response, calls = await refused(gateway, query, variables, token_for(gateway))

    assert response.status == 400
    assert response.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert calls == NOTHING
    assert await written(connection) == before


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_over_the_budget_is_rate_limited_unexecuted(
    make_gateway, connection, token_for, mutation
):
    gateway = await make_gateway(rate_limit_budget=14)
    query, variables = MUTATIONS[mutation]
    token = token_for(gateway)
    await gateway.execute(query, variables, token=token)  # spends at least 11 of the 14
    before = await written(connection)

    response, calls = await refused(gateway, query, variables, token)

    assert response.status == 429
    assert response.codes == ["RATE_LIMITED"]
    assert "Retry-After" in response.headers
    assert calls == NOTHING
    assert await written(connection) == before


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_a_mutation_over_get_is_405_unexecuted(gateway, connection, token_for, mutation):
    query, variables = MUTATIONS[mutation]
    before = await written(connection)

    response, statements = await gateway.get(
        {"query": query, "variables": json.dumps(variables)},
        headers={"Authorization": f"Bearer {token_for(gateway)}"},
    )

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert statements == 0
    assert await written(connection) == before


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_persisted_only_refuses_an_ad_hoc_mutation(
    make_gateway, connection, token_for, mutation
):
    gateway = await make_gateway(persisted_only=True)
    query, variables = MUTATIONS[mutation]

    response, calls = await refused(gateway, query, variables, token_for(gateway))

    assert response.codes == ["OPERATION_NOT_ALLOWED"]
    assert calls == NOTHING


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_a_cross_site_form_post_is_refused_by_csrf_prevention(gateway, token_for, mutation):
    query, variables = MUTATIONS[mutation]

    response, statements = await gateway.request(
        "POST",
        token=token_for(gateway),
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    assert statements == 0


@pytest.mark.parametrize(
    ("setting", "query", "code"),
    [
        (
            {"max_depth": 2},
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) "
            "{ order { lines { content { title } } } } }",
            "MAX_DEPTH_LIMIT",
        ),
        (
            {"max_aliases": 1},
            "mutation($input: PlaceOrderInput!) { a: placeOrder(input: $input) { order { id } } "
            "b: placeOrder(input: $input) { order { id } } }",
            "MAX_ALIASES_LIMIT",
        ),
        (
            {"max_root_fields": 1},
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } "
            'updateProfile(input: {name: "x"}) { user { id } } }',
            "MAX_ROOT_FIELDS_LIMIT",
        ),
    ],
    ids=["depth", "aliases", "root-fields"],
)
async def test_shape_limits_refuse_mutations_before_anything_runs(
    make_gateway, connection, token_for, setting, query, code
):
    gateway = await make_gateway(**setting)
    before = await written(connection)

    response, calls = await refused(
        gateway, query, {"input": {"lines": [line(3)]}}, token_for(gateway)
    )

    assert response.status == 400
    assert response.codes == [code]
    assert calls == NOTHING
    assert await written(connection) == before


async def test_an_input_of_the_wrong_shape_is_refused_before_anything_runs(
    gateway, connection, token_for
):
    before = await written(connection)

    response, calls = await refused(
        gateway,
        PLACE,
        {"input": {"lines": [{"contentId": 3, "quantity": "two"}]}},
        token_for(gateway),
    )

    assert response.status == 400
    assert response.codes == ["BAD_USER_INPUT"]
    assert calls == NOTHING
    assert await written(connection) == before


async def test_a_malformed_content_id_is_refused_naming_the_line(gateway, token_for):
    response, calls = await refused(
        gateway,
        PLACE,
        {"input": {"lines": [line(3), {"contentId": "%%%", "quantity": 1}]}},
        token_for(gateway),
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "lines", 1, "contentId"]
    assert calls == NOTHING


async def test_an_anonymous_caller_must_authenticate_and_nothing_is_written(gateway, connection):
    before = await written(connection)

    response, calls = await gateway.costed(PLACE, variables={"input": {"lines": [line(3)]}})

    assert response.codes == ["UNAUTHENTICATED"]
    assert calls.content == calls.payments == 0
    assert await written(connection) == before


async def test_a_batch_cannot_smuggle_mutations_past_the_limits(make_gateway, token_for):
    gateway = await make_gateway(batch_max_operations=2, cost_max_per_operation=5)
    body = [{"query": PLACE, "variables": {"input": {"lines": [line(3)]}}}] * 2

    response, statements = await gateway.post(body, token=token_for(gateway))

    assert response.status_code == 200
    assert [item["errors"][0]["extensions"]["code"] for item in response.json()] == [
        "COST_ESTIMATED_TOO_EXPENSIVE"
    ] * 2
    assert statements == 0


def test_json_headers_are_what_a_json_client_sends():
    assert JSON_HEADERS["Content-Type"] == "application/json"
