"""GraphQL over HTTP: media types, methods, content types, body size, status codes, batching."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.bodies import result
from tests.factories import make_user
from tests.helpers import codes

ME = "{ me { id } }"


async def test_the_graphql_response_media_type_is_used_when_accepted(gateway):
    response, _ = await gateway.post({"query": ME})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert result(response.json()) == {"data": {"me": None}}


async def test_application_json_is_used_when_the_client_does_not_ask_otherwise(gateway):
    response, _ = await gateway.request(
        "POST", json={"query": ME}, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_application_json_is_used_when_the_client_prefers_it(gateway):
    response, _ = await gateway.post(
        {"query": ME},
        headers={"Accept": "application/json, application/graphql-response+json;q=0.9"},
    )

    assert response.headers["content-type"] == "application/json"


async def test_a_query_is_served_over_get(gateway):
    response, _ = await gateway.get({"query": "query Me { me { id } }", "variables": "{}"})

    assert response.status_code == 200
    assert result(response.json()) == {"data": {"me": None}}


async def test_a_mutation_over_get_is_405_with_allow_post(gateway):
    response, statements = await gateway.get({"query": "mutation { placeOrder }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


async def test_an_unsupported_content_type_is_415(gateway):
    response, statements = await gateway.request(
        "POST", content=b"<query/>", headers={"Content-Type": "application/xml"}
    )

    assert response.status_code == 415
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_declared_body_over_the_limit_is_413_unread(make_gateway):
    gateway = await make_gateway(max_body_bytes=100)

    response, statements = await gateway.post({"query": "{ me { id } }", "pad": "x" * 200})

    assert response.status_code == 413
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_streamed_body_over_the_limit_is_413(make_gateway):
    gateway = await make_gateway(max_body_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ me { id } }", "pad": "'
        for _ in range(10):
            yield b"x" * 50
        yield b'"}'

    response, statements = await gateway.request(
        "POST", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_body_that_is_not_json_is_400(gateway):
    response, statements = await gateway.request(
        "POST", content=b"{query", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_request_without_a_query_is_400(gateway):
    response, statements = await gateway.post({"variables": {}})

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_document_that_does_not_parse_is_400_without_data(gateway):
    response, statements = await gateway.post({"query": "{ me { id "})

    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert statements == 0


async def test_an_invalid_document_is_400_without_data(gateway):
    response, statements = await gateway.post({"query": "{ me { shoeSize } }"})

    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == 0


async def test_variables_of_the_wrong_type_are_400(gateway):
    response, statements = await gateway.post(
        {
            "query": "query($n: Int) { users(first: $n) { edges { cursor } } }",
            "variables": {"n": "many"},
        }
    )

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_an_unknown_operation_name_is_400(gateway):
    response, statements = await gateway.post(
        {"query": "query A { me { id } }", "operationName": "B"}
    )

    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == 0


async def test_a_partial_result_is_200_with_data_and_errors(gateway, connection):
    await make_user(connection)
    token = gateway.token("protection-subject", "users:read")

    response, _ = await gateway.post(
        {"query": "{ users(first: 1) { edges { node { name email } } } }"}, token=token
    )

    assert response.status_code == 200
    node = response.json()["data"]["users"]["edges"][0]["node"]
    assert node["name"]
    assert node["email"] is None
    assert codes(response) == ["FORBIDDEN"]


async def test_batches_are_refused_by_default(gateway):
    response, statements = await gateway.post([{"query": ME}, {"query": ME}])

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_batch_within_the_cap_answers_each_operation_in_order(make_gateway):
    gateway = await make_gateway(batch_max_operations=2)

    response, _ = await gateway.post([{"query": ME}, {"query": "{ me { shoeSize } }"}])

    assert response.status_code == 200
    first, second = response.json()
    assert result(first) == {"data": {"me": None}}
    assert [e["extensions"]["code"] for e in second["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_batch_over_the_cap_is_400(make_gateway):
    gateway = await make_gateway(batch_max_operations=2)

    response, statements = await gateway.post([{"query": ME}] * 3)

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_an_invalid_token_is_still_a_401_for_the_whole_request(gateway):
    response, statements = await gateway.post({"query": ME}, headers={"Authorization": "Bearer x"})

    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]
    assert statements == 0


async def test_a_status_set_through_the_context_response_is_kept(gateway):
    """What an operation sets on context.response (a status, headers) reaches the answer."""
    pipeline = gateway.app.state.resources.pipeline
    make_context = pipeline.context

    def too_many(prepared):
        context = make_context(prepared)
        context.response.status = 429
        context.response.headers["Retry-After"] = "1"
        return context

    pipeline.context = too_many
    response, _ = await gateway.post({"query": ME})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


async def test_get_variables_that_are_not_json_are_400(gateway):
    response, statements = await gateway.get({"query": ME, "variables": "{n:"})

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0
