"""An N+1 across services fails the suite: calls per request are constant in list sizes."""

from __future__ import annotations

import pytest

from demo.catalog import PRODUCT_COUNT, product_price
from tests.factories import make_order, make_user

ORDERS_LINES_CONTENT_AUTHOR = """
{ orders(first: 50) { edges { node {
    number
    lines { quantity content { title author { name } } }
} } } }
"""


#: Distinct products the orders draw from: under one upstream batch (100 ids) by design, so
#: one call per level is the expectation; chunking has its own test.
PRODUCT_POOL = 60


async def _orders_with_lines(connection, catalog, count: int) -> None:
    """``count`` orders of three products each, whose authors exist as users."""
    authors = {catalog.by_id[content_id].author_id for content_id in range(1, PRODUCT_COUNT + 1)}
    for author_id in sorted(authors):
        await make_user(connection, user_id=author_id)
    customer = await make_user(connection, user_id=10_000)
    for index in range(count):
        products = [(index * 3 + offset) % PRODUCT_POOL + 1 for offset in range(3)]
        await make_order(
            connection, customer, lines=[(pid, 1, product_price(pid)) for pid in products]
        )


@pytest.mark.parametrize("orders", [5, 50])
async def test_orders_lines_content_and_authors_cost_one_call_per_level(
    gateway, connection, catalog, orders
):
    await _orders_with_lines(connection, catalog, orders)

    response, calls = await gateway.costed(
        ORDERS_LINES_CONTENT_AUTHOR, token=gateway.token("staff", "orders:read:all")
    )

    assert response.errors == []
    edges = response.data["orders"]["edges"]
    assert len(edges) == orders
    lines = [line for edge in edges for line in edge["node"]["lines"]]
    assert len(lines) == orders * 3
    assert all(line["content"]["author"]["name"] for line in lines)
    assert calls.content == 1  # every line's content in one GET /content?ids=…
    assert calls.sql == 3  # orders, their lines, the content's authors


async def test_recommendations_and_their_content_for_twenty_users_cost_one_call_each(
    gateway, connection
):
    for user_id in range(1, 21):
        await make_user(connection, user_id=user_id)

    response, calls = await gateway.costed(
        "{ users(first: 20) { edges { node { recommendations(first: 5) { content { title } } } } } }",
        token=gateway.token("staff", "users:read", "orders:read:all", "recommendations:read"),
    )

    assert response.errors == []
    edges = response.data["users"]["edges"]
    assert len(edges) == 20
    assert all(len(edge["node"]["recommendations"]) == 5 for edge in edges)
    assert calls.recommendations == 1
    assert calls.content == 1
    assert calls.sql == 1


async def test_the_same_content_twice_in_one_request_is_fetched_once(gateway, content_service):
    before = content_service.requests()

    response, calls = await gateway.costed(
        '{ a: content(id: "Q29udGVudDox") { title } b: content(id: "Q29udGVudDox") { slug } }'
    )

    assert response.errors == []
    assert calls.content == 1
    assert content_service.requests() - before == 1


async def test_more_ids_than_the_batch_size_are_chunked(make_gateway, connection, catalog):
    gateway = await make_gateway(upstream_max_batch_size=2)
    await _orders_with_lines(connection, catalog, 2)

    response, calls = await gateway.costed(
        "{ orders(first: 2) { edges { node { lines { content { id } } } } } }",
        token=gateway.token("staff", "orders:read:all"),
    )

    assert response.errors == []
    assert calls.content == 3  # six distinct ids, two per call
