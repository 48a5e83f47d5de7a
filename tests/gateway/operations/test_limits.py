"""Shape limits run before execution: each refusal is a 400 with its code and costs no SQL."""

from __future__ import annotations

import logging

from graphql import get_introspection_query

from tests.factories import make_user
from tests.helpers import codes

DEEP = "{ me { orders { edges { node { id } } } } }"  # depth 5


async def test_a_query_deeper_than_the_limit_is_refused(make_gateway):
    gateway = await make_gateway(max_depth=4)

    response, statements = await gateway.post({"query": DEEP})

    assert response.status_code == 400
    assert codes(response) == ["MAX_DEPTH_LIMIT"]
    assert statements == 0


async def test_depth_counts_through_fragments(make_gateway):
    gateway = await make_gateway(max_depth=4)
    query = """
        { me { ...Orders } }
        fragment Orders on User { orders { edges { ... on OrderEdge { node { id } } } } }
    """

    response, statements = await gateway.post({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["MAX_DEPTH_LIMIT"]
    assert statements == 0


async def test_a_query_at_the_depth_limit_executes(make_gateway):
    gateway = await make_gateway(max_depth=5)

    response, _ = await gateway.post({"query": DEEP})

    assert response.status_code == 200


async def test_aliases_inside_fragments_count_once_per_spread(make_gateway):
    gateway = await make_gateway(max_aliases=3)
    query = """
        { a: me { ...Names } b: me { ...Names } }
        fragment Names on User { x: name }
    """  # 2 + 2 x 1 = 4 aliases

    response, statements = await gateway.post({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["MAX_ALIASES_LIMIT"]
    assert statements == 0


async def test_a_fragment_bomb_is_measured_without_expanding_it(gateway):
    fragments = ["fragment F0 on User { a: name }"] + [
        f"fragment F{n} on User {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 40)
    ]
    query = "{ me { ...F39 } } " + " ".join(fragments)

    response, statements = await gateway.post({"query": query})

    assert response.status_code == 400
    assert "MAX_ALIASES_LIMIT" in codes(response)
    assert statements == 0


async def test_a_document_over_the_token_limit_is_refused_while_parsing(make_gateway):
    gateway = await make_gateway(max_tokens=20)

    response, statements = await gateway.post({"query": "{ " + "me { id } " * 20 + "}"})

    assert response.status_code == 400
    assert codes(response) == ["MAX_TOKENS_LIMIT"]
    assert statements == 0


async def test_too_many_directives_are_refused(make_gateway):
    gateway = await make_gateway(max_directives=2)
    query = "{ me @include(if: true) { id @skip(if: false) name @skip(if: false) } }"

    response, statements = await gateway.post({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["MAX_DIRECTIVES_LIMIT"]
    assert statements == 0


async def test_too_many_root_fields_are_refused(make_gateway):
    gateway = await make_gateway(max_root_fields=2)

    response, statements = await gateway.post(
        {"query": "{ me { id } again: me { id } ...More } fragment More on Query { me { id } }"}
    )

    assert response.status_code == 400
    assert codes(response) == ["MAX_ROOT_FIELDS_LIMIT"]
    assert statements == 0


async def test_the_number_of_validation_errors_returned_is_capped(make_gateway):
    gateway = await make_gateway(max_validation_errors=2)

    response, statements = await gateway.post({"query": "{ me { a b c d e f } }"})

    assert response.status_code == 400
    assert len(response.json()["errors"]) == 3  # two, then "Too many validation errors"
    assert set(codes(response)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert statements == 0


async def test_measure_mode_logs_violations_and_executes(make_gateway, caplog):
    gateway = await make_gateway(max_depth=2, max_tokens=5, limits_mode="measure")

    with caplog.at_level(logging.WARNING, logger="manifold.limits"):
        response, _ = await gateway.post({"query": DEEP})

    assert response.status_code == 200
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "MAX_DEPTH_LIMIT" in messages
    assert "MAX_TOKENS_LIMIT" in messages


async def test_measure_mode_logs_a_cached_document_every_time(make_gateway, caplog):
    gateway = await make_gateway(max_tokens=5, limits_mode="measure")
    await gateway.post({"query": DEEP})

    with caplog.at_level(logging.WARNING, logger="manifold.limits"):
        response, _ = await gateway.post({"query": DEEP})

    assert response.status_code == 200
    assert any("MAX_TOKENS_LIMIT" in record.getMessage() for record in caplog.records)


async def test_the_default_limits_let_a_real_nested_query_through(gateway, connection):
    await make_user(connection)
    query = """
    { users(first: 50) { edges { node {
        orders(first: 10) { edges { node { lines { quantity unitPrice { amount } } } } }
    } } } }
    """

    token = gateway.token("protection-subject", "users:read", "orders:read:all")

    response, _ = await gateway.post({"query": query}, token=token)

    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_the_default_limits_let_graphiql_introspect(gateway):
    graphiql_query = get_introspection_query(  # what GraphiQL 3 sends
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )

    response, _ = await gateway.post({"query": graphiql_query})

    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
