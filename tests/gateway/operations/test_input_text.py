"""Strings an operation hands its resolvers must be storable text: a NUL (which PostgreSQL
refuses) or another control character in a literal, a variable, a list item or an input field
is BAD_USER_INPUT before anything runs, so nothing is half written and nothing is a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.tables import api_keys
from tests.helpers import codes

CREATE = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { apiKey { name } }
}"""


async def _keys(connection: AsyncConnection) -> int:
    count: int = (await connection.execute(select(func.count()).select_from(api_keys))).scalar_one()
    return count


@pytest.fixture
def admin(gateway):
    return gateway.token("key-admin", "admin:api-keys")


@pytest.mark.parametrize(
    "field_values",
    [
        {"name": "partner\x00"},
        {"name": "ok", "owner": "bell\x07"},
        {"name": "ok", "scopes": ["admin:api-keys", "users:read\x00"]},
        {"name": "c1 \x9b control"},
    ],
    ids=["name-nul", "owner-bell", "scope-list-item", "c1-control"],
)
async def test_a_control_character_in_an_input_field_writes_nothing(
    gateway, connection, admin, field_values
):
    before = await _keys(connection)
    variables = {"input": {"name": "x", "scopes": [], **field_values}}

    response, statements = await gateway.post(
        {"query": CREATE, "variables": variables}, token=admin
    )

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert '"$input"' in response.json()["errors"][0]["message"]
    assert "data" not in response.json()
    assert statements == 0
    assert await _keys(connection) == before


async def test_the_refusal_says_where_the_character_is(gateway, admin):
    variables = {"input": {"name": "x", "scopes": ["a", "b\x00"]}}

    response, _ = await gateway.post({"query": CREATE, "variables": variables}, token=admin)

    (error,) = response.json()["errors"]
    assert "U+0000" in error["message"]
    assert "input.scopes[1]" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 10}]


async def test_the_refusal_names_the_field_as_a_mutations_input_errors_do(gateway, admin):
    variables = {"input": {"name": "x", "scopes": ["a", "b\x00"]}}

    response, _ = await gateway.post({"query": CREATE, "variables": variables}, token=admin)

    (error,) = response.json()["errors"]
    assert error["extensions"]["field"] == ["input", "scopes", 1]


async def test_an_escaped_nul_in_a_literal_is_refused(gateway, connection, admin):
    before = await _keys(connection)
    query = 'mutation { createApiKey(input: {name: "a\\u0000", scopes: []}) { key } }'

    response, statements = await gateway.post({"query": query}, token=admin)

    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0
    assert await _keys(connection) == before


@pytest.mark.parametrize(
    "query",
    [
        '{ content(slug: "a\\u0000") { id } }',
        '{ contents(tag: "\\u001b[2J") { edges { cursor } } }',
        '{ users(after: "\\u0000") { edges { cursor } } }',
        'query($s: String = "x\\u0000") { content(slug: $s) { id } }',
        '{ ...F } fragment F on Query { content(slug: "\\u007f") { id } }',
    ],
    ids=["argument", "tag", "cursor", "variable-default", "in-a-fragment"],
)
async def test_a_control_character_in_any_literal_is_refused_before_any_call(gateway, query):
    response, calls = await gateway.costed(query, token=gateway.token("reader", "users:read"))

    assert response.status == 400
    assert response.codes == ["BAD_USER_INPUT"]
    assert calls.sql == calls.content == 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($s: String) { content(slug: $s) { id } }", {"s": "a\x00b"}),
        ("query($a: String) { users(after: $a) { edges { cursor } } }", {"a": "\x00"}),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["VXNlcjox", "\x00"]}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "\x00"}),
    ],
    ids=["slug", "cursor", "id-list-item", "id"],
)
async def test_a_nul_in_a_variable_is_bad_user_input_over_get_and_post(gateway, query, variables):
    posted = await gateway.execute(query, variables)

    assert posted.status == 400
    assert posted.codes == ["BAD_USER_INPUT"]


async def test_tabs_and_line_breaks_are_ordinary_text(gateway, connection, admin):
    variables = {"input": {"name": "line one\r\n\tline two", "scopes": ["admin:api-keys"]}}

    response, _ = await gateway.post({"query": CREATE, "variables": variables}, token=admin)

    assert response.status_code == 200
    assert response.json()["data"]["createApiKey"]["apiKey"]["name"] == "line one\r\n\tline two"


async def test_a_document_with_a_bad_literal_is_refused_every_time_from_the_cache(gateway):
    query = '{ content(slug: "\\u0000") { id } }'

    first = await gateway.execute(query)
    second = await gateway.execute(query)

    assert first.body == second.body
    assert second.codes == ["BAD_USER_INPUT"]
