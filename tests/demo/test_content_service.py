"""Specifications of the demo content service, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from demo.catalog import CURRENCY, PRODUCT_COUNT, TAGS, product_price
from demo.content import ContentConfig
from tests.demo.conftest import RunningService

ITEM_FIELDS = {
    "id", "slug", "kind", "title", "summary", "body", "tags", "price", "authorId", "status",
    "publishedAt",
}  # fmt: skip
CONFIG = ContentConfig()
ARTICLES = range(PRODUCT_COUNT + 1, PRODUCT_COUNT + CONFIG.articles + 1)
ALL_IDS = range(1, PRODUCT_COUNT + CONFIG.articles + CONFIG.videos + 1)


def every_item(api: httpx.Client) -> list[dict[str, Any]]:
    items = []
    for start in range(0, len(ALL_IDS), 100):
        ids = ",".join(map(str, ALL_IDS[start : start + 100]))
        items += api.get("/content", params={"ids": ids}).json()["items"]
    return items


def ids_of(response: httpx.Response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# --- items -----------------------------------------------------------------------------------


def test_an_item_by_id_has_the_contract_shape_and_the_cache_header(content_api):
    response = content_api.get("/content/17")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=60"
    item = response.json()
    assert set(item) == ITEM_FIELDS
    assert item["id"] == 17
    assert item["kind"] == "product"
    assert re.fullmatch(r"product-17-[a-z0-9-]+", item["slug"])
    assert item["price"] == {"amount": str(product_price(17)), "currency": CURRENCY}
    assert item["status"] == "published"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["publishedAt"])
    assert all(isinstance(item[name], str) and item[name] for name in ("title", "summary"))
    assert item["body"].count("\n\n") >= 1  # a few paragraphs


def test_products_are_exactly_the_seeders_ids_and_prices(content_api):
    items = every_item(content_api)

    products = [item for item in items if item["kind"] == "product"]
    assert [item["id"] for item in products] == list(range(1, PRODUCT_COUNT + 1))
    for item in products:
        assert item["price"] == {"amount": f"{product_price(item['id']):.2f}", "currency": "EUR"}
        assert item["status"] == "published"
    others = [item for item in items if item["kind"] != "product"]
    assert {item["kind"] for item in others} == {"article", "video"}
    assert all(item["price"] is None for item in others)


def test_every_item_keeps_the_catalog_invariants(content_api):
    items = every_item(content_api)

    assert len(items) == len(ALL_IDS)
    assert len({item["slug"] for item in items}) == len(items)
    used_tags = {tag for item in items for tag in item["tags"]}
    assert used_tags <= set(TAGS)
    assert 15 <= len(used_tags) <= 25
    for item in items:
        assert 1 <= len(item["tags"]) <= 4
        assert 1 <= item["authorId"] <= CONFIG.users
        assert item["slug"].startswith(f"{item['kind']}-{item['id']}-")
        if item["status"] == "draft":
            assert item["publishedAt"] is None
        else:
            assert item["status"] == "published"
            assert datetime.fromisoformat(item["publishedAt"]).utcoffset() == timedelta(0)
    drafts = [item for item in items if item["status"] == "draft"]
    share = len(drafts) / (CONFIG.articles + CONFIG.videos)
    assert 0.04 < share < 0.2


def test_an_unknown_id_is_a_404_cached_briefly(content_api):
    response = content_api.get("/content/99999")

    assert response.status_code == 404
    assert response.headers["cache-control"] == "max-age=5"
    assert response.json()["error"] == "not_found"
    assert "99999" in response.json()["message"]


# --- batches ---------------------------------------------------------------------------------


def test_a_batch_by_ids_keeps_the_asked_order_collapses_duplicates_and_skips_missing(content_api):
    response = content_api.get("/content", params={"ids": "250,3,99999,3,1"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=60"
    assert set(response.json()) == {"items"}
    assert ids_of(response) == [250, 3, 1]


def test_a_batch_includes_drafts(content_api):
    draft = content_api.get("/content", params={"status": "draft", "limit": 1}).json()["items"][0]

    response = content_api.get("/content", params={"ids": f"1,{draft['id']}"})

    assert [item["status"] for item in response.json()["items"]] == ["published", "draft"]


def test_a_batch_by_slugs_finds_the_same_items(content_api):
    by_id = content_api.get("/content", params={"ids": "5,220"}).json()["items"]
    slugs = [item["slug"] for item in by_id]

    response = content_api.get("/content", params={"slugs": f"{slugs[1]},no-such-slug,{slugs[0]}"})

    assert response.status_code == 200
    assert response.json()["items"] == [by_id[1], by_id[0]]


def test_a_batch_of_one_hundred_ids_is_allowed(content_api):
    response = content_api.get("/content", params={"ids": ",".join(map(str, range(1, 101)))})

    assert ids_of(response) == list(range(1, 101))


# --- listing ---------------------------------------------------------------------------------


def test_the_listing_pages_through_every_article_once_in_ascending_id(content_api):
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"kind": "article", "status": "any", "limit": "7"}
        if cursor is not None:
            params["after"] = cursor
        page = content_api.get("/content", params=params)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "max-age=60"
        assert len(page.json()["items"]) <= 7
        seen += ids_of(page)
        pages += 1
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break

    assert seen == list(ARTICLES)
    assert pages == -(-len(ARTICLES) // 7)


def test_a_cursor_is_the_last_items_id_so_any_id_resumes_after_that_item(content_api):
    page = content_api.get("/content", params={"kind": "video", "limit": 3}).json()

    assert page["nextCursor"] == str(page["items"][-1]["id"])
    second = page["items"][1]["id"]
    resumed = content_api.get("/content", params={"kind": "video", "limit": 2, "after": second})
    assert ids_of(resumed)[0] == page["items"][2]["id"]
    assert ids_of(resumed)[0] > second


def test_the_listing_defaults_to_twenty_published_items(content_api):
    page = content_api.get("/content").json()

    assert len(page["items"]) == 20
    assert all(item["status"] == "published" for item in page["items"])
    assert [item["id"] for item in page["items"]] == list(range(1, 21))
    assert page["nextCursor"] is not None


def test_the_listing_filters_by_kind_tag_and_status(content_api):
    everything = every_item(content_api)
    expected = [
        item["id"]
        for item in everything
        if item["kind"] == "video" and "python" in item["tags"] and item["status"] == "published"
    ]

    page = content_api.get("/content", params={"kind": "video", "tag": "python", "limit": 100})

    assert expected
    assert ids_of(page) == expected
    assert page.json()["nextCursor"] is None
    drafts = content_api.get("/content", params={"status": "draft", "limit": 100}).json()
    assert drafts["items"]
    assert all(item["status"] == "draft" for item in drafts["items"])


def test_an_unknown_tag_lists_nothing(content_api):
    page = content_api.get("/content", params={"tag": "knitting"})

    assert page.json() == {"items": [], "nextCursor": None}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/content/abc", {}),
        ("/content/1.5", {}),
        ("/content", {"ids": "1,x"}),
        ("/content", {"ids": ""}),
        ("/content", {"ids": ",".join(map(str, range(1, 102)))}),
        ("/content", {"slugs": ",".join(f"s{n}" for n in range(101))}),
        ("/content", {"slugs": "a,,b"}),
        ("/content", {"ids": "1", "slugs": "a"}),
        ("/content", {"ids": "1", "kind": "article"}),
        ("/content", {"kind": "podcast"}),
        ("/content", {"status": "deleted"}),
        ("/content", {"limit": "0"}),
        ("/content", {"limit": "101"}),
        ("/content", {"limit": "ten"}),
        ("/content", {"after": "not-a-cursor"}),
        ("/content", {"after": "-1"}),
    ],
)
def test_bad_parameters_are_a_400_with_the_error_shape(content_api, path, params):
    response = content_api.get(path, params=params)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert response.json()["message"]


# --- faults and counters ---------------------------------------------------------------------


def test_an_error_rate_of_one_fails_every_api_request_with_retry_after(content_api):
    content_api.put("/_faults", json={"error_rate": 1.0, "retry_after": 3}).raise_for_status()

    for path in ("/content/1", "/content?ids=1,2"):
        response = content_api.get(path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "3"
        assert response.json()["error"] == "injected_fault"
    assert content_api.get("/healthz").status_code == 200


def test_a_partial_error_rate_is_reproducible_and_uses_the_chosen_status(content_api):
    def statuses() -> list[int]:
        content_api.put("/_faults", json={"error_rate": 0.5, "error_status": 502})
        return [content_api.get("/content/1").status_code for _ in range(40)]

    first, second = statuses(), statuses()

    assert first == second
    assert set(first) == {200, 502}
    assert 10 <= first.count(502) <= 30


def test_the_faults_can_be_read_back_and_missing_fields_reset_to_defaults(content_api):
    content_api.put("/_faults", json={"latency_ms": 10, "hang": False, "pad_bytes": 1})
    content_api.put("/_faults", json={"error_status": 504})

    assert content_api.get("/_faults").json() == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "error_status": 504,
        "retry_after": None,
        "hang": False,
        "pad_bytes": 0,
    }


@pytest.mark.parametrize(
    "body",
    [{"error_rate": 2}, {"latency_ms": -1}, {"hang": 1}, {"error_status": 200}, {"nope": 1}, []],
)
def test_invalid_faults_are_refused_and_leave_the_faults_alone(content_api, body):
    response = content_api.put("/_faults", json=body)

    assert response.status_code == 400
    assert content_api.get("/_faults").json()["error_rate"] == 0.0


def test_latency_delays_the_answer(content_api):
    content_api.put("/_faults", json={"latency_ms": 300})

    started = time.perf_counter()
    response = content_api.get("/content/1")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert 0.3 <= elapsed < 1.5
    started = time.perf_counter()
    content_api.get("/healthz")
    assert time.perf_counter() - started < 0.3


def test_padding_grows_json_answers_by_the_asked_bytes(content_api):
    plain = content_api.get("/content/1")
    content_api.put("/_faults", json={"pad_bytes": 200_000})

    padded = content_api.get("/content/1")

    assert padded.json()["_padding"] == "x" * 200_000
    assert {k: v for k, v in padded.json().items() if k != "_padding"} == plain.json()
    assert int(padded.headers["content-length"]) >= len(plain.content) + 200_000
    assert padded.headers["cache-control"] == "max-age=60"


async def test_a_hang_times_the_client_out_while_the_server_answers_others(content_service):
    async with httpx.AsyncClient(base_url=content_service.url, timeout=5.0) as client:
        await client.put("/_faults", json={"hang": True})
        try:
            started = time.perf_counter()
            hanging = asyncio.ensure_future(client.get("/content/1", timeout=0.5))
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert not hanging.done()
            with pytest.raises(httpx.ReadTimeout):
                await hanging
            assert 0.5 <= time.perf_counter() - started < 1.5
        finally:
            await client.put("/_faults", json={})
        assert (await client.get("/content/1")).status_code == 200


async def test_changing_the_faults_releases_hung_requests_under_the_new_faults(content_service):
    async with httpx.AsyncClient(base_url=content_service.url, timeout=5.0) as client:
        await client.put("/_faults", json={"hang": True})
        try:
            hanging = asyncio.ensure_future(client.get("/content/1"))
            await asyncio.sleep(0.2)
            assert not hanging.done()
            await client.put("/_faults", json={"latency_ms": 50})
            response = await hanging
        finally:
            await client.put("/_faults", json={})

    assert response.status_code == 200
    assert response.json()["id"] == 1


def test_stats_count_api_requests_by_route_including_faulted_ones(content_api):
    content_api.get("/content/1")
    content_api.get("/content/2")
    content_api.get("/content", params={"ids": "1"})
    content_api.put("/_faults", json={"error_rate": 1.0})
    content_api.get("/content/3")
    content_api.get("/healthz")
    content_api.get("/openapi.json")
    content_api.get("/_faults")

    assert content_api.get("/_stats").json() == {
        "requests": 4,
        "byRoute": {"/content": 1, "/content/{id}": 3},
    }
    assert content_api.post("/_stats/reset").json()["requests"] == 0
    assert content_api.get("/_stats").json() == {
        "requests": 0,
        "byRoute": {"/content": 0, "/content/{id}": 0},
    }


# --- OpenAPI ---------------------------------------------------------------------------------


def routes_of(service: RunningService) -> set[tuple[str, str]]:
    return {
        (route.path, method.lower())
        for route in service.app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def refs_in(value: object) -> list[str]:
    if isinstance(value, dict):
        return [ref for key, item in value.items() for ref in (
            [item] if key == "$ref" else refs_in(item)
        )]  # fmt: skip
    if isinstance(value, list):
        return [ref for item in value for ref in refs_in(item)]
    return []


def test_the_openapi_document_describes_exactly_the_served_routes(content_api, content_service):
    document = content_api.get("/openapi.json").json()

    assert document["openapi"].startswith("3.1.")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert described == routes_of(content_service)
    schemas = document["components"]["schemas"]
    assert {ref.removeprefix("#/components/schemas/") for ref in refs_in(document)} <= set(schemas)
    assert set(schemas["Content"]["properties"]) == ITEM_FIELDS
    listing = {p["name"] for p in document["paths"]["/content"]["get"]["parameters"]}
    assert listing == {"ids", "slugs", "kind", "tag", "status", "limit", "after"}
