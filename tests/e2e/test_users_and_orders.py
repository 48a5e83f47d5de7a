"""Specifications of the users and orders part of the schema, driven over HTTP."""

from __future__ import annotations

import base64
from decimal import Decimal

from datasources.tables import OrderStatus
from tests.factories import make_order, make_user
from tests.helpers import global_id

READ = ("users:read", "orders:read")


async def test_me_is_the_user_behind_the_token(gateway, connection):
    user = await make_user(connection, name="Ada Lovelace")

    response = await gateway.execute("{ me { id name } }", token=gateway.token(user.subject))

    assert response.status == 200
    assert response.data == {"me": {"id": global_id("User", user.id), "name": "Ada Lovelace"}}


async def test_me_is_null_for_anonymous_callers(gateway):
    response = await gateway.execute("{ me { id } }")

    assert response.data == {"me": None}
    assert response.errors == []


async def test_email_is_returned_with_the_users_email_scope(gateway, connection):
    user = await make_user(connection)

    response = await gateway.execute(
        "{ me { email } }", token=gateway.token(user.subject, "users:email")
    )

    assert response.data == {"me": {"email": user.email}}


async def test_order_shows_total_lines_and_customer(gateway, connection):
    user = await make_user(connection, name="Grace")
    order = await make_order(
        connection, user, lines=[(7, 3, Decimal("2.50")), (9, 1, Decimal("10.00"))]
    )

    response = await gateway.execute(
        """query($id: ID!) { order(id: $id) { number status total { amount currency }
             lines { quantity unitPrice { amount } subtotal { amount currency } }
             customer { name } } }""",
        {"id": global_id("Order", order.id)},
        token=gateway.token(user.subject, "orders:read"),
    )

    assert response.errors == []
    assert response.data["order"] == {
        "number": order.number,
        "status": "PAID",
        "total": {"amount": "17.50", "currency": "EUR"},
        "lines": [
            {
                "quantity": 3,
                "unitPrice": {"amount": "2.50"},
                "subtotal": {"amount": "7.50", "currency": "EUR"},
            },
            {
                "quantity": 1,
                "unitPrice": {"amount": "10.00"},
                "subtotal": {"amount": "10.00", "currency": "EUR"},
            },
        ],
        "customer": {"name": "Grace"},
    }


async def test_another_customers_order_reads_as_missing_through_order_node_and_nodes(
    gateway, connection
):
    owner = await make_user(connection)
    stranger = await make_user(connection)
    order = await make_order(connection, owner)
    order_id = global_id("Order", order.id)
    missing_id = global_id("Order", order.id + 10_000)

    response = await gateway.execute(
        """query($id: ID!, $missing: ID!) {
             order(id: $id) { id } node(id: $id) { id } nodes(ids: [$id, $missing]) { id }
             missingOrder: order(id: $missing) { id } missingNode: node(id: $missing) { id } }""",
        {"id": order_id, "missing": missing_id},
        token=gateway.token(stranger.subject, "orders:read"),
    )

    assert response.errors == []
    assert response.data == {
        "order": None,
        "node": None,
        "nodes": [None, None],
        "missingOrder": None,
        "missingNode": None,
    }


async def test_owner_sees_their_order_through_order_node_and_nodes(gateway, connection):
    owner = await make_user(connection)
    order = await make_order(connection, owner)
    order_id = global_id("Order", order.id)

    response = await gateway.execute(
        "query($id: ID!) { order(id: $id) { id } node(id: $id) { id } nodes(ids: [$id]) { id } }",
        {"id": order_id},
        token=gateway.token(owner.subject, "orders:read"),
    )

    assert response.data == {
        "order": {"id": order_id},
        "node": {"id": order_id},
        "nodes": [{"id": order_id}],
    }


async def test_staff_with_orders_read_all_see_any_order(gateway, connection):
    owner = await make_user(connection)
    staff = await make_user(connection)
    order = await make_order(connection, owner)

    response = await gateway.execute(
        "query($id: ID!) { node(id: $id) { ... on Order { number } } }",
        {"id": global_id("Order", order.id)},
        token=gateway.token(staff.subject, "orders:read:all"),
    )

    assert response.data == {"node": {"number": order.number}}


async def test_node_requires_the_same_scope_as_the_typed_field(gateway, connection):
    owner = await make_user(connection)
    order = await make_order(connection, owner)

    response = await gateway.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("Order", order.id)},
        token=gateway.token(owner.subject, "users:read"),
    )

    assert response.data == {"node": None}
    assert response.codes == ["FORBIDDEN"]


async def test_another_customers_orders_connection_is_empty(gateway, connection):
    owner = await make_user(connection)
    viewer = await make_user(connection)
    await make_order(connection, owner)

    response = await gateway.execute(
        "query($id: ID!) { user(id: $id) { orders { edges { node { id } } } } }",
        {"id": global_id("User", owner.id)},
        token=gateway.token(viewer.subject, *READ),
    )

    assert response.data == {"user": {"orders": {"edges": []}}}


async def test_orders_lists_only_the_callers_orders_newest_first(gateway, connection):
    me = await make_user(connection)
    other = await make_user(connection)
    older = await make_order(connection, me)
    await make_order(connection, other)
    newer = await make_order(connection, me)

    response = await gateway.execute(
        "{ orders { edges { node { number } } } }", token=gateway.token(me.subject, "orders:read")
    )

    numbers = [edge["node"]["number"] for edge in response.data["orders"]["edges"]]
    assert numbers == [newer.number, older.number]


async def test_orders_can_be_filtered_by_status(gateway, connection):
    me = await make_user(connection)
    await make_order(connection, me)
    cancelled = await make_order(connection, me, status=OrderStatus.CANCELLED)

    response = await gateway.execute(
        "{ orders(status: CANCELLED) { edges { node { number status } } } }",
        token=gateway.token(me.subject, "orders:read"),
    )

    assert response.data["orders"]["edges"] == [
        {"node": {"number": cancelled.number, "status": "CANCELLED"}}
    ]


async def test_orders_pages_follow_the_after_cursor_without_gaps_or_repeats(gateway, connection):
    me = await make_user(connection)
    made = [await make_order(connection, me) for _ in range(5)]
    token = gateway.token(me.subject, "orders:read")
    query = """query($after: String) { orders(first: 2, after: $after) {
                 edges { node { number } } pageInfo { hasNextPage endCursor } } }"""

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await gateway.execute(query, {"after": after}, token=token)).data["orders"]
        seen += [edge["node"]["number"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == 3
    assert seen == [order.number for order in reversed(made)]


async def test_users_pages_in_creation_order(gateway, connection):
    viewer = await make_user(connection)
    first_user = await make_user(connection)
    second_user = await make_user(connection)
    token = gateway.token(viewer.subject, "users:read")
    query = "query($after: String) { users(first: 1, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage } } }"

    first_page = (await gateway.execute(query, token=token)).data["users"]
    cursor = first_page["edges"][0]["cursor"]
    names = []
    while True:
        page = (await gateway.execute(query, {"after": cursor}, token=token)).data["users"]
        if not page["edges"]:
            break
        names.append(page["edges"][0]["node"]["name"])
        cursor = page["edges"][0]["cursor"]

    assert names[-2:] == [first_user.name, second_user.name]


async def test_users_requires_users_read(gateway, connection):
    user = await make_user(connection)

    response = await gateway.execute(
        "{ users { edges { node { id } } } }", token=gateway.token(user.subject, "orders:read")
    )

    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["path"] == ["users"]


async def test_first_outside_one_to_a_hundred_is_bad_user_input(gateway, connection):
    user = await make_user(connection)
    token = gateway.token(user.subject, *READ)

    for first in (0, 101, -1):
        response = await gateway.execute(
            "query($n: Int) { users(first: $n) { edges { cursor } } }", {"n": first}, token=token
        )
        assert response.codes == ["BAD_USER_INPUT"], first


async def test_a_malformed_cursor_is_bad_user_input(gateway, connection):
    user = await make_user(connection)
    token = gateway.token(user.subject, *READ)

    for cursor in ("not-base64!", base64.b64encode(b'["user",1]').decode(), "WyJvcmRlciIsIngiLDFd"):
        response = await gateway.execute(
            "query($c: String) { orders(after: $c) { edges { cursor } } }",
            {"c": cursor},
            token=token,
        )
        assert response.codes == ["BAD_USER_INPUT"], cursor


async def test_a_malformed_global_id_is_bad_user_input(gateway, connection):
    user = await make_user(connection)
    token = gateway.token(user.subject, *READ)

    for value in ("garbage", global_id("User", 1), global_id("Order", 0), global_id("Order", "x")):  # type: ignore[arg-type]
        response = await gateway.execute(
            "query($id: ID!) { order(id: $id) { id } }", {"id": value}, token=token
        )
        assert response.codes == ["BAD_USER_INPUT"], value
        assert response.data == {"order": None}


async def test_a_denied_field_does_not_affect_its_siblings(gateway, connection):
    user = await make_user(connection, name="Sibling")

    response = await gateway.execute(
        "{ me { name email orders { edges { cursor } } } }",
        token=gateway.token(user.subject, "users:read"),
    )

    assert response.data == {"me": {"name": "Sibling", "email": None, "orders": None}}
    assert sorted(response.codes) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(error["path"][-1] for error in response.errors) == ["email", "orders"]


async def test_an_id_beyond_bigint_is_bad_user_input_not_a_crash(gateway, connection):
    user = await make_user(connection)
    token = gateway.token(user.subject, *READ)
    huge = global_id("User", 2**70)

    response = await gateway.execute(
        "query($id: ID!) { user(id: $id) { id } nodes(ids: [$id]) { id } }",
        {"id": huge},
        token=token,
    )

    assert set(response.codes) == {"BAD_USER_INPUT"}


async def test_a_cursor_beyond_bigint_is_bad_user_input(gateway, connection):
    user = await make_user(connection)
    cursor = base64.urlsafe_b64encode(f'["user",{2**70}]'.encode()).decode()

    response = await gateway.execute(
        "query($c: String) { users(after: $c) { edges { cursor } } }",
        {"c": cursor},
        token=gateway.token(user.subject, *READ),
    )

    assert response.codes == ["BAD_USER_INPUT"]


async def test_nodes_serves_the_items_the_caller_may_read_and_fails_only_the_others(
    gateway, connection
):
    me = await make_user(connection, name="Partial")
    order = await make_order(connection, me)
    order_id, user_id = global_id("Order", order.id), global_id("User", me.id)

    response = await gateway.execute(
        "query($ids: [ID!]!) { me { name } nodes(ids: $ids) { id } }",
        {"ids": [order_id, user_id]},
        token=gateway.token(me.subject, "orders:read"),
    )

    assert response.data == {"me": {"name": "Partial"}, "nodes": [{"id": order_id}, None]}
    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["path"] == ["nodes", 1]


async def test_an_id_of_a_type_without_ids_is_bad_user_input(gateway, connection):
    user = await make_user(connection)

    for type_name in ("Node", "Money", "Nope"):
        response = await gateway.execute(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": global_id(type_name, 1)},
            token=gateway.token(user.subject, *READ),
        )
        assert response.codes == ["BAD_USER_INPUT"], type_name


async def test_nodes_refuses_more_than_a_hundred_ids(gateway, connection):
    user = await make_user(connection)
    ids = [global_id("Order", n) for n in range(1, 102)]

    response, statements = await gateway.counted(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        variables={"ids": ids},
        token=gateway.token(user.subject, *READ),
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_cursor_with_an_out_of_range_time_is_bad_user_input(gateway, connection):
    user = await make_user(connection)
    cursor = base64.urlsafe_b64encode(b'["order","0001-01-01T00:00:00+01:00",1]').decode()

    response = await gateway.execute(
        "query($c: String) { orders(after: $c) { edges { cursor } } }",
        {"c": cursor},
        token=gateway.token(user.subject, *READ),
    )

    assert response.codes == ["BAD_USER_INPUT"]
