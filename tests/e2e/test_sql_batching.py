"""An N+1 fails the suite: SQL statements per request are constant in the size of lists."""

from __future__ import annotations

import pytest

from tests.factories import make_order, make_user

Q2 = """
{ users(first: 50) { edges { node {
    orders(first: 10) { edges { node { lines { quantity unitPrice { amount } } } } }
} } } }
"""


async def seed(connection, users: int, orders_per_user: int):
    made = []
    for _ in range(users):
        user = await make_user(connection)
        for _ in range(orders_per_user):
            await make_order(connection, user)
        made.append(user)
    return made


@pytest.mark.parametrize("users", [5, 50])
async def test_users_orders_lines_costs_three_statements_whatever_the_number_of_users(
    gateway, connection, users
):
    staff = (await seed(connection, users, 2))[0]

    response, statements = await gateway.counted(
        Q2, token=gateway.token(staff.subject, "users:read", "orders:read:all")
    )

    assert response.errors == []
    edges = response.data["users"]["edges"]
    assert len(edges) == users
    assert all(len(edge["node"]["orders"]["edges"]) == 2 for edge in edges)
    assert statements <= 3


async def test_each_users_first_orders_come_from_one_statement(gateway, connection):
    made = await seed(connection, 4, 12)

    response, statements = await gateway.counted(
        "{ users(first: 10) { edges { node { orders(first: 10) { edges { cursor } pageInfo { hasNextPage } } } } } }",
        token=gateway.token(made[0].subject, "users:read", "orders:read:all"),
    )

    edges = response.data["users"]["edges"]
    assert [len(edge["node"]["orders"]["edges"]) for edge in edges] == [10, 10, 10, 10]
    assert all(edge["node"]["orders"]["pageInfo"]["hasNextPage"] for edge in edges)
    assert statements == 2


async def test_order_customers_are_loaded_in_one_statement(gateway, connection):
    made = await seed(connection, 6, 2)

    response, statements = await gateway.counted(
        "{ orders(first: 12) { edges { node { customer { name } lines { quantity } } } } }",
        token=gateway.token(made[0].subject, "orders:read:all"),
    )

    assert len(response.data["orders"]["edges"]) == 12
    assert statements == 3


async def test_the_viewer_is_looked_up_once_per_request(gateway, connection):
    (me,) = await seed(connection, 1, 3)

    response, statements = await gateway.counted(
        "{ me { name orders { edges { node { id } } } } orders { edges { node { id } } } }",
        token=gateway.token(me.subject, "orders:read"),
    )

    assert response.errors == []
    assert statements == 2
