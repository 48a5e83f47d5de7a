"""Content, recommendations and the joins across SQL and REST, as a frontend sees them."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from demo.catalog import product_price
from tests.bodies import result
from tests.factories import make_order, make_user
from tests.helpers import first_draft, global_id

CONTENT_FIELDS = "id slug kind title tags price { amount currency } publishedAt"


async def test_content_by_id_is_the_catalog_item_with_its_price(gateway, catalog):
    item = catalog.by_id[17]

    response = await gateway.execute(
        f'{{ content(id: "{global_id("Content", 17)}") {{ {CONTENT_FIELDS} }} }}'
    )

    assert response.errors == []
    content = response.data["content"]
    assert content["slug"] == item.slug
    assert content["kind"] == "PRODUCT"
    assert content["title"] == item.title
    assert content["tags"] == list(item.tags)
    assert content["price"] == {"amount": str(product_price(17)), "currency": "EUR"}


async def test_content_by_slug_finds_the_same_item(gateway, catalog):
    item = catalog.by_id[230]

    response = await gateway.execute(
        f'{{ content(slug: "{item.slug}") {{ id title price {{ amount }} }} }}'
    )

    assert response.data["content"] == {
        "id": global_id("Content", 230),
        "title": item.title,
        "price": None,
    }


async def test_content_needs_exactly_one_of_id_and_slug(gateway):
    response = await gateway.execute("{ content { id } }")

    assert response.data == {"content": None}
    assert response.codes == ["BAD_USER_INPUT"]


async def test_an_unknown_content_id_is_null_without_an_error(gateway):
    response = await gateway.execute(
        f'{{ content(id: "{global_id("Content", 999_999)}") {{ id }} }}'
    )

    assert result(response.body) == {"data": {"content": None}}


async def test_a_draft_reads_as_missing_without_content_read(gateway, connection, catalog):
    draft = first_draft(catalog)
    user = await make_user(connection)
    query = f'{{ content(id: "{global_id("Content", draft)}") {{ id publishedAt }} }}'

    anonymous = await gateway.execute(query)
    without_scope = await gateway.execute(query, token=gateway.token(user.subject, "users:read"))

    assert result(anonymous.body) == {"data": {"content": None}}
    assert result(without_scope.body) == {"data": {"content": None}}


async def test_content_read_shows_drafts(gateway, connection, catalog):
    draft = first_draft(catalog)
    user = await make_user(connection)

    response = await gateway.execute(
        f'{{ content(id: "{global_id("Content", draft)}") {{ id publishedAt }} }}',
        token=gateway.token(user.subject, "content:read"),
    )

    assert response.data["content"] == {"id": global_id("Content", draft), "publishedAt": None}


async def test_node_fetches_content_by_global_id(gateway, catalog):
    response = await gateway.execute(
        f'{{ node(id: "{global_id("Content", 3)}") {{ ... on Content {{ title }} }} }}'
    )

    assert response.data == {"node": {"title": catalog.by_id[3].title}}


async def test_contents_pages_through_published_items_of_a_kind_without_repeats(gateway, catalog):
    expected = [
        item.id
        for item in catalog.items
        if item.kind.value == "video" and item.status.value == "published"
    ]
    seen: list[str] = []
    after = None
    while True:
        arguments = "first: 40, kind: VIDEO" + (f', after: "{after}"' if after else "")
        response = await gateway.execute(
            f"{{ contents({arguments}) {{ edges {{ node {{ id kind }} }} "
            "pageInfo { hasNextPage endCursor } } }"
        )
        assert response.errors == []
        page = response.data["contents"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        assert {edge["node"]["kind"] for edge in page["edges"]} <= {"VIDEO"}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [global_id("Content", content_id) for content_id in expected]


async def test_contents_filters_by_tag(gateway, catalog):
    tag = catalog.by_id[1].tags[0]

    response = await gateway.execute(
        f'{{ contents(first: 100, tag: "{tag}") {{ edges {{ node {{ tags }} }} }} }}'
    )

    edges = response.data["contents"]["edges"]
    assert edges
    assert all(tag in edge["node"]["tags"] for edge in edges)


@pytest.mark.parametrize("tag", ["", "x" * 65])
async def test_an_empty_or_overlong_tag_is_bad_user_input(gateway, content_service, tag):
    before = content_service.requests()

    response = await gateway.execute(f'{{ contents(tag: "{tag}") {{ edges {{ cursor }} }} }}')

    assert response.codes == ["BAD_USER_INPUT"]
    assert content_service.requests() == before


async def test_a_foreign_cursor_is_bad_user_input(gateway):
    response = await gateway.execute('{ contents(after: "bm90LWEtY3Vyc29y") { edges { cursor } } }')

    assert response.codes == ["BAD_USER_INPUT"]


async def test_order_line_content_is_the_product_bought(gateway, connection):
    user = await make_user(connection)
    await make_order(connection, user, lines=[(42, 1, product_price(42))])

    response = await gateway.execute(
        "{ me { orders(first: 1) { edges { node { lines { unitPrice { amount } "
        "content { id price { amount } } } } } } } }",
        token=gateway.token(user.subject, "orders:read"),
    )

    (line,) = response.data["me"]["orders"]["edges"][0]["node"]["lines"]
    assert line["content"] == {
        "id": global_id("Content", 42),
        "price": {"amount": str(product_price(42))},
    }
    assert Decimal(line["unitPrice"]["amount"]) == product_price(42)


async def test_content_author_is_the_user_from_the_database(gateway, connection, catalog):
    item = catalog.by_id[5]
    author = await make_user(connection, name="Ada Author", user_id=item.author_id)

    response = await gateway.execute(
        f'{{ content(id: "{global_id("Content", 5)}") {{ author {{ id name email }} }} }}'
    )

    assert response.data["content"]["author"] == {
        "id": global_id("User", author.id),
        "name": "Ada Author",
        "email": None,
    }
    assert response.codes == ["UNAUTHENTICATED"]  # email still needs users:email


async def test_recommendations_need_recommendations_read(gateway, connection):
    user = await make_user(connection)

    response = await gateway.execute(
        "{ recommendations { score } }", token=gateway.token(user.subject, "users:read")
    )

    assert response.data == {"recommendations": None}
    assert response.codes == ["FORBIDDEN"]


async def test_recommendations_for_the_caller_join_their_content(gateway, connection, catalog):
    user = await make_user(connection, user_id=7)

    response = await gateway.execute(
        "{ recommendations(first: 5) { score reason content { id title } } }",
        token=gateway.token(user.subject, "recommendations:read"),
    )

    assert response.errors == []
    recommendations = response.data["recommendations"]
    assert len(recommendations) == 5
    scores = [item["score"] for item in recommendations]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)
    for item in recommendations:
        assert item["content"]["title"]
        assert item["reason"]


async def test_recommendations_first_outside_one_to_fifty_is_bad_user_input(gateway, connection):
    user = await make_user(connection)

    response = await gateway.execute(
        "{ recommendations(first: 51) { score } }",
        token=gateway.token(user.subject, "recommendations:read"),
    )

    assert response.codes == ["BAD_USER_INPUT"]


async def test_a_partner_without_a_user_gets_no_recommendations(gateway):
    response = await gateway.execute(
        "{ recommendations { score } }",
        token=gateway.token("service-client", "recommendations:read"),
    )

    assert result(response.body) == {"data": {"recommendations": []}}


async def test_another_users_recommendations_read_as_none_without_orders_read_all(
    gateway, connection, catalog
):
    viewer = await make_user(connection, user_id=11)
    author = await make_user(connection, user_id=catalog.by_id[9].author_id)
    query = (
        f'{{ content(id: "{global_id("Content", 9)}") '
        "{ author { recommendations(first: 3) { score } } } }"
    )

    as_viewer = await gateway.execute(
        query, token=gateway.token(viewer.subject, "recommendations:read", "users:read")
    )
    as_author = await gateway.execute(
        query, token=gateway.token(author.subject, "recommendations:read")
    )
    as_staff = await gateway.execute(
        query, token=gateway.token("staff", "recommendations:read", "orders:read:all")
    )

    assert as_viewer.data["content"]["author"]["recommendations"] == []
    assert len(as_author.data["content"]["author"]["recommendations"]) == 3
    assert len(as_staff.data["content"]["author"]["recommendations"]) == 3


async def test_an_id_beyond_the_upstreams_range_is_missing_without_failing_its_siblings(
    gateway, content_service, catalog
):
    before = content_service.requests()

    response = await gateway.execute(
        f'{{ a: content(id: "{global_id("Content", 10**18)}") {{ title }} '
        f'b: content(id: "{global_id("Content", 1)}") {{ title }} }}'
    )

    assert result(response.body) == {"data": {"a": None, "b": {"title": catalog.by_id[1].title}}}
    assert content_service.requests() - before == 1


async def test_a_cursor_beyond_the_upstreams_id_range_is_bad_user_input(gateway):
    cursor = base64.urlsafe_b64encode(b'["content",1000000000000000000]').decode().rstrip("=")

    response = await gateway.execute(f'{{ contents(after: "{cursor}") {{ edges {{ cursor }} }} }}')

    assert response.codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("slug", [" ", "\\t", " product-1 ", "a,b", "x" * 201])
async def test_a_slug_that_cannot_exist_is_missing_without_an_upstream_call(
    gateway, content_service, catalog, slug
):
    before = content_service.requests()

    response = await gateway.execute(
        f'{{ a: content(slug: "{slug}") {{ title }} '
        f'b: content(slug: "{catalog.by_id[1].slug}") {{ title }} }}'
    )

    assert result(response.body) == {"data": {"a": None, "b": {"title": catalog.by_id[1].title}}}
    assert content_service.requests() - before == 1
