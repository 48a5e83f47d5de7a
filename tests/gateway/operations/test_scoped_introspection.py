"""Introspection by scope: each caller sees only the fields and types it may use."""

from __future__ import annotations

from typing import Any

from graphql import get_introspection_query

from contract.scopes import Scope
from gateway.settings import Environment
from tests.bodies import result
from tests.helpers import codes

TYPES = "{ __schema { types { name fields { name } } } }"


def fields_by_type(response) -> dict[str, set[str]]:
    return {
        item["name"]: {field["name"] for field in item["fields"] or ()}
        for item in response.json()["data"]["__schema"]["types"]
    }


async def test_a_content_reader_sees_neither_user_email_nor_order(gateway):
    response, _ = await gateway.post(
        {"query": TYPES}, token=gateway.token("protection-subject", "content:read")
    )

    types = fields_by_type(response)
    assert response.status_code == 200
    assert "email" not in types["User"]
    assert "orders" not in types["User"]
    assert "Order" not in types
    assert {"users", "user", "orders", "order"}.isdisjoint(types["Query"])


async def test_a_token_with_every_scope_sees_everything(gateway):
    token = gateway.token("protection-subject", *(str(scope) for scope in Scope))

    response, _ = await gateway.post({"query": TYPES}, token=token)

    types = fields_by_type(response)
    assert "email" in types["User"]
    assert {"Order", "OrderLine", "Money", "UserConnection", "OrderConnection"} <= set(types)
    full = gateway.app.state.resources.schema._schema.type_map
    assert set(types) == set(full)


async def test_anonymous_callers_see_the_public_schema(gateway):
    response, _ = await gateway.post({"query": TYPES})

    types = fields_by_type(response)
    assert types["Query"] == {"node", "nodes", "me", "content", "contents", "rateLimit"}
    assert "email" not in types["User"]


async def test_a_hidden_type_is_null_through_type_lookup(gateway):
    response, _ = await gateway.post(
        {"query": '{ __type(name: "Order") { name } }'},
        token=gateway.token("protection-subject", "users:read"),
    )

    assert result(response.json()) == {"data": {"__type": None}}


async def test_a_hidden_field_cannot_be_introspected_through_its_type(gateway):
    response, _ = await gateway.post(
        {"query": '{ __type(name: "User") { fields { name } } }'},
        token=gateway.token("protection-subject", "users:read"),
    )

    names = {field["name"] for field in response.json()["data"]["__type"]["fields"]}
    assert "email" not in names
    assert "name" in names


async def test_graphiqls_introspection_query_works_for_a_scoped_caller(gateway):
    response, _ = await gateway.post(
        {"query": get_introspection_query(descriptions=True)},
        token=gateway.token("protection-subject", "orders:read"),
    )

    assert response.status_code == 200
    names = {item["name"] for item in response.json()["data"]["__schema"]["types"]}
    assert "Order" in names


async def test_introspection_mixed_with_data_fields_is_refused(gateway):
    response, statements = await gateway.post(
        {"query": "{ me { id } __schema { types { name } } }"}
    )

    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == 0


async def test_typename_alone_is_ordinary_execution(gateway):
    response, _ = await gateway.post({"query": "{ __typename }"})

    assert result(response.json()) == {"data": {"__typename": "Query"}}


def prod(**overrides: Any) -> dict[str, Any]:
    """Settings production accepts; anonymous callers need no signing keys, so the JWKS URL
    may point nowhere."""
    return {
        "env": Environment.PROD,
        "oauth_jwks_url": "https://127.0.0.1:9/.well-known/jwks.json",
        "api_key_pepper": "a-production-pepper-0123456789-abcdefgh",
        **overrides,
    }


async def test_anonymous_introspection_in_prod_is_introspection_disabled(make_gateway):
    gateway = await make_gateway(**prod())

    response, statements = await gateway.post({"query": TYPES})

    assert response.status_code == 400
    assert codes(response) == ["INTROSPECTION_DISABLED"]
    assert statements == 0


async def test_introspection_enabled_in_prod_is_still_filtered_by_scope(make_gateway):
    gateway = await make_gateway(**prod(introspection=True))

    response, _ = await gateway.post({"query": TYPES})

    assert "Order" not in fields_by_type(response)
