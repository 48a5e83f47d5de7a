"""Manifold as an Apollo Federation subgraph (GATEWAY_FEDERATION): ``_entities`` resolves
through the same loaders as ``nodes(ids:)`` (one statement or one call per type per batch) and
authorizes exactly as it does; ``_service { sdl }`` is the subgraph SDL. With Hive Gateway in
front: tests/node/test_federation.py."""

from __future__ import annotations

import pytest

from tests.factories import make_order, make_user
from tests.helpers import global_id

ENTITIES = """query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id name }
    ... on Order { id number }
    ... on Content { id title }
  }
}"""
NODES = """query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on User { id name }
    ... on Order { id number }
    ... on Content { id title }
  }
}"""


def representation(type_name: str, pk: int) -> dict[str, str]:
    return {"__typename": type_name, "id": global_id(type_name, pk)}


@pytest.fixture
async def subgraph(make_gateway):
    return await make_gateway(federation=True)


async def test_users_in_one_batch_cost_one_statement(subgraph, connection):
    people = [await make_user(connection) for _ in range(5)]
    token = subgraph.token("federation-reader", "users:read")

    response, calls = await subgraph.costed(
        ENTITIES,
        variables={"representations": [representation("User", p.id) for p in people]},
        token=token,
    )

    assert response.errors == []
    assert [entity["name"] for entity in response.data["_entities"]] == [p.name for p in people]
    assert calls.sql == 1


async def test_contents_in_one_batch_cost_one_upstream_call(subgraph):
    response, calls = await subgraph.costed(
        ENTITIES, variables={"representations": [representation("Content", n) for n in (1, 2, 3)]}
    )

    assert response.errors == []
    assert [entity["__typename"] for entity in response.data["_entities"]] == ["Content"] * 3
    assert calls.content == 1
    assert calls.sql == 0


async def test_mixed_types_cost_one_batch_per_type(subgraph, connection):
    owner = await make_user(connection)
    orders = [await make_order(connection, owner) for _ in range(3)]
    token = subgraph.token(owner.subject, "orders:read", "users:read")
    representations = [
        representation("Order", orders[0].id),
        representation("User", owner.id),
        representation("Content", 4),
        representation("Order", orders[1].id),
        representation("Content", 5),
        representation("Order", orders[2].id),
    ]

    response, calls = await subgraph.costed(
        ENTITIES, variables={"representations": representations}, token=token
    )

    assert response.errors == []
    assert [entity["__typename"] for entity in response.data["_entities"]] == [
        "Order",
        "User",
        "Content",
        "Order",
        "Content",
        "Order",
    ]
    # users by id, orders by id, the caller's own user row (ownership): one statement each.
    assert calls.sql == 3
    assert calls.content == 1


@pytest.mark.parametrize(
    "scopes",
    [(), ("users:read",), ("orders:read",), ("orders:read:all",), ("content:read",)],
    ids=["anonymous", "users-read", "own-orders", "all-orders", "content-read"],
)
async def test_entities_answer_exactly_as_nodes_for_every_caller(subgraph, connection, scopes):
    owner = await make_user(connection)
    other = await make_user(connection)
    mine = await make_order(connection, owner)
    theirs = await make_order(connection, other)
    refs = [
        ("Order", mine.id),
        ("Order", theirs.id),
        ("User", other.id),
        ("Content", 3),
        ("Order", theirs.id + 10_000),
    ]
    token = subgraph.token(owner.subject, *scopes) if scopes else None

    entities = await subgraph.execute(
        ENTITIES, {"representations": [representation(t, pk) for t, pk in refs]}, token=token
    )
    nodes = await subgraph.execute(
        NODES, {"ids": [global_id(t, pk) for t, pk in refs]}, token=token
    )

    assert entities.data["_entities"] == nodes.data["nodes"]
    assert [(e["path"][1], e["extensions"]["code"]) for e in entities.errors] == [
        (e["path"][1], e["extensions"]["code"]) for e in nodes.errors
    ]


async def test_another_customers_order_is_null_like_through_node(subgraph, connection):
    owner = await make_user(connection)
    stranger = await make_user(connection)
    order = await make_order(connection, owner)

    response = await subgraph.execute(
        ENTITIES,
        {"representations": [representation("Order", order.id)]},
        token=subgraph.token(stranger.subject, "orders:read"),
    )

    assert response.errors == []
    assert response.data["_entities"] == [None]


@pytest.mark.parametrize(
    "bad",
    [
        {"__typename": "User"},
        {"__typename": "Order", "id": global_id("User", 1)},
        {"__typename": "ApiKey", "id": "x"},
        {"__typename": "User", "id": "not base64 !"},
        {"__typename": "User", "id": 7},
        "User:1",
        ["User", 1],
        {"__typename": ["User"], "id": global_id("User", 1)},
        {"__typename": {}, "id": global_id("User", 1)},
        {"__typename": None, "id": global_id("User", 1)},
    ],
    ids=[
        "no-id",
        "id-of-another-type",
        "not-an-entity",
        "malformed-id",
        "id-not-a-string",
        "a-string",
        "a-list",
        "typename-a-list",
        "typename-an-object",
        "typename-null",
    ],
)
async def test_a_bad_representation_is_bad_user_input_at_its_index(subgraph, connection, bad):
    user = await make_user(connection)
    token = subgraph.token("federation-reader", "users:read")

    response = await subgraph.execute(
        ENTITIES, {"representations": [representation("User", user.id), bad]}, token=token
    )

    assert response.status == 200
    assert response.data["_entities"][0]["name"] == user.name
    assert response.data["_entities"][1] is None
    assert [(e["path"], e["extensions"]["code"]) for e in response.errors] == [
        (["_entities", 1], "BAD_USER_INPUT")
    ]


@pytest.mark.parametrize("item", [None, "malformed"], ids=["valid", "malformed"])
async def test_more_than_a_hundred_representations_are_refused_like_ids(subgraph, connection, item):
    user = await make_user(connection)
    one = representation("User", user.id) if item is None else item
    token = subgraph.token("federation-reader", "users:read")

    response, calls = await subgraph.costed(
        ENTITIES, variables={"representations": [one] * 101}, token=token
    )

    assert response.data is None  # _entities is non-null, like nodes
    assert [(e["path"], e["extensions"]["code"]) for e in response.errors] == [
        (["_entities"], "BAD_USER_INPUT")
    ]
    assert calls.sql == 0


async def test_representations_are_priced_by_their_number_like_ids(subgraph):
    """Each entity's selection is paid once per representation, as ``nodes(ids:)`` pays per id."""
    priced = (
        "query($representations: [_Any!]!) { _entities(representations: $representations) "
        "{ ... on Content { price { amount } } } }"
    )

    async def requested(count: int) -> int:
        response = await subgraph.execute(
            priced,
            {"representations": [representation("Content", n) for n in range(1, count + 1)]},
        )
        return int(response.body["extensions"]["cost"]["requested"])

    assert await requested(1) == 2  # the field, plus one price
    assert await requested(10) == 11


async def test_the_service_sdl_keys_the_three_entities(subgraph):
    response = await subgraph.execute("{ _service { sdl } }")
    sdl = response.data["_service"]["sdl"]

    assert sdl.startswith('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3"')
    for type_name in ("User", "Order", "Content"):
        assert f'type {type_name} implements Node @key(fields: "id")' in sdl
    assert "_entities" not in sdl
    assert "_Any" not in sdl
    assert "@requiresScopes" in sdl


async def test_the_service_sdl_is_refused_when_introspection_is_off(make_gateway):
    subgraph = await make_gateway(federation=True, introspection=False)

    response = await subgraph.execute("{ _service { sdl } }")

    assert response.codes == ["INTROSPECTION_DISABLED"]


async def test_introspection_shows_no_subgraph_plumbing(subgraph):
    response = await subgraph.execute(
        '{ __schema { queryType { fields { name } } } entity: __type(name: "_Entity") { name } '
        'order: __type(name: "Order") { name } }'
    )

    fields = {field["name"] for field in response.data["__schema"]["queryType"]["fields"]}
    assert "_entities" not in fields
    assert "_service" not in fields
    assert response.data["entity"] is None
    assert response.data["order"] is None  # still hidden from the anonymous caller


async def test_without_the_setting_there_are_no_subgraph_fields(gateway):
    response = await gateway.execute("{ _service { sdl } }")

    assert response.status == 400
    assert response.codes == ["GRAPHQL_VALIDATION_FAILED"]
