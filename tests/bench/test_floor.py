"""The floor executes exactly the answer's shape, with the real schema's nullability."""

from __future__ import annotations

import graphql

from bench.inprocess import floor_sdl

REAL = graphql.build_schema(
    """
    type Query { users: [User!]! maybe: User }
    type User { id: ID! name: String nick: String! score: Float tags: [String!] }
    """
)
DATA = {
    "users": [{"id": "1", "name": "Ada", "tags": ["a"]}, {"id": "2", "name": None, "tags": []}],
    "maybe": None,
}


def test_the_floor_answers_exactly_the_reference() -> None:
    schema, document = floor_sdl(DATA, REAL)
    result = graphql.execute_sync(schema, graphql.parse(document), root_value=DATA)
    assert result.errors is None
    assert result.data == DATA


def test_the_floor_keeps_the_real_schemas_wrappers() -> None:
    schema, _ = floor_sdl({"users": DATA["users"]}, REAL)
    assert schema.query_type is not None
    users = schema.query_type.fields["users"].type
    user = graphql.get_named_type(users)
    assert str(users) == f"[{user.name}!]!"
    assert str(user.fields["id"].type) == "ID!"
    assert str(user.fields["name"].type) == "String"
    assert str(user.fields["tags"].type) == "[String!]"
