"""Specifications of the demo recommendations service, over real HTTP on loopback."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from datasources.db import create_engine
from datasources.migrate import upgrade_database
from datasources.tables import order_lines, orders
from demo.catalog import build_catalog
from demo.recommendations import RecommendationsConfig, create_app
from demo.seed import DEFAULT_SEED, purchase_history, seed_database
from demo.serve import serving

CONFIG = RecommendationsConfig()
PURCHASES = purchase_history(
    users=CONFIG.users, orders_per_user=CONFIG.orders_per_user, seed=DEFAULT_SEED
)
CATALOG = build_catalog()
PUBLISHED = {item.id for item in CATALOG.items if item.status == "published"}
FIELDS = {"contentId", "score", "reason"}


def results(api: httpx.Client, user_ids: str, **params: int) -> dict[str, list[dict[str, Any]]]:
    response = api.get("/recommendations", params={"user_ids": user_ids, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, list[dict[str, Any]]] = response.json()["results"]
    return answer


def test_a_batch_answers_each_distinct_user_in_the_contract_shape(recommendations_api):
    response = recommendations_api.get("/recommendations", params={"user_ids": "2,1,2"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=30"
    body = response.json()
    assert set(body) == {"results"}
    assert list(body["results"]) == ["2", "1"]
    for picks in body["results"].values():
        assert len(picks) == 10
        assert all(set(pick) == FIELDS for pick in picks)


def test_scores_are_in_zero_one_sorted_descending_ties_by_id(recommendations_api):
    for picks in results(recommendations_api, "1,7,42,200", limit=50).values():
        keys = [(-pick["score"], pick["contentId"]) for pick in picks]
        assert keys == sorted(keys)
        assert all(0 < pick["score"] <= 1 for pick in picks)


def test_only_published_content_that_the_user_has_not_bought_is_recommended(recommendations_api):
    user_ids = list(range(1, 21))

    answer = results(recommendations_api, ",".join(map(str, user_ids)), limit=50)

    for user_id in user_ids:
        recommended = {pick["contentId"] for pick in answer[str(user_id)]}
        assert len(recommended) == 50
        assert recommended <= PUBLISHED
        assert not recommended & PURCHASES[user_id]


def test_reasons_name_a_purchase_bought_with_it_or_the_shared_tags(recommendations_api):
    titles = {CATALOG.by_id[p].title for p in PURCHASES[1]}
    purchased_tags = {tag for p in PURCHASES[1] for tag in CATALOG.by_id[p].tags}

    picks = results(recommendations_api, "1", limit=50)["1"]

    kinds: Counter[str] = Counter()
    for pick in picks:
        if pick["reason"].startswith("Bought with "):
            assert pick["reason"].removeprefix("Bought with ") in titles
            kinds["co"] += 1
        else:
            shared = pick["reason"].removeprefix("Similar tags: ").split(", ")
            assert set(shared) <= purchased_tags & set(CATALOG.by_id[pick["contentId"]].tags)
            kinds["tags"] += 1
    assert kinds["co"] > 0
    assert kinds["tags"] > 0


def test_users_without_history_get_the_most_bought_products(recommendations_api):
    buyers = Counter(product for bought in PURCHASES.values() for product in bought)
    most = max(buyers.values())
    expected = sorted(buyers, key=lambda product: (-buyers[product], product))[:5]

    answer = results(recommendations_api, "201,99999", limit=5)

    for picks in answer.values():
        assert [pick["contentId"] for pick in picks] == expected
        assert {pick["reason"] for pick in picks} == {"Popular"}
        assert picks[0]["score"] == 1.0
        assert [pick["score"] for pick in picks] == [round(buyers[p] / most, 4) for p in expected]


def test_the_limit_caps_each_users_list(recommendations_api):
    answer = results(recommendations_api, "1,99999", limit=3)

    assert [len(picks) for picks in answer.values()] == [3, 3]
    full = results(recommendations_api, "1", limit=50)["1"]
    assert answer["1"] == full[:3]


def test_the_answers_are_the_same_from_a_service_built_again(recommendations_api):
    app = create_app(RecommendationsConfig())
    with serving(app) as url, httpx.Client(base_url=url) as other:
        again = results(other, "1,2,3,500", limit=20)

    assert results(recommendations_api, "1,2,3,500", limit=20) == again


def test_a_hundred_user_batch_is_answered_well_within_fifty_milliseconds(recommendations_api):
    user_ids = ",".join(map(str, range(1, 101)))
    results(recommendations_api, user_ids)

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        answer = results(recommendations_api, user_ids)
        timings.append(time.perf_counter() - started)

    assert len(answer) == 100
    assert min(timings) < 0.025


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"user_ids": ""},
        {"user_ids": "1,x"},
        {"user_ids": "0"},
        {"user_ids": "-3"},
        {"user_ids": ",".join(map(str, range(1, 102)))},
        {"user_ids": "1", "limit": "0"},
        {"user_ids": "1", "limit": "51"},
        {"user_ids": "1", "limit": "many"},
    ],
)
def test_bad_input_is_a_400_with_the_error_shape(recommendations_api, params):
    response = recommendations_api.get("/recommendations", params=params)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert response.json()["message"]


def test_injected_faults_apply_to_recommendations_and_are_counted(recommendations_api):
    recommendations_api.put("/_faults", json={"error_rate": 1.0, "error_status": 429})

    response = recommendations_api.get("/recommendations", params={"user_ids": "1"})

    assert response.status_code == 429
    assert recommendations_api.get("/_stats").json() == {
        "requests": 1,
        "byRoute": {"/recommendations": 1},
    }


def test_the_openapi_document_describes_the_recommendations_route(recommendations_api):
    document = recommendations_api.get("/openapi.json").json()

    assert document["openapi"].startswith("3.1.")
    assert set(document["paths"]) == {
        "/recommendations", "/healthz", "/openapi.json", "/_faults", "/_stats", "/_stats/reset",
    }  # fmt: skip
    operation = document["paths"]["/recommendations"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"user_ids", "limit"}
    schema = document["components"]["schemas"]["Recommendation"]
    assert set(schema["properties"]) == FIELDS


async def test_the_purchase_history_is_what_the_seeder_writes(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'seeded.sqlite3'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        await seed_database(engine, users=15, orders_per_user=4)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(orders.c.user_id, order_lines.c.content_id).join(
                    orders, orders.c.id == order_lines.c.order_id
                )
            )
            written: dict[int, set[int]] = {}
            for user_id, content_id in rows:
                written.setdefault(user_id, set()).add(content_id)
    finally:
        await engine.dispose()

    assert purchase_history(users=15, orders_per_user=4) == written
