"""Specifications of cost budgets: feedback on every response, refusals that execute nothing,
per-principal budgets shared exactly by concurrent requests and by several gateways."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime

from tests.factories import make_user
from tests.partner.conftest import Gateways, issue_key

ME = "{ me { name } }"  # costs 1; a partner's `me` is null, so no SQL either
USERS_10 = "{ users(first: 10) { edges { node { name } } } }"  # costs 21


def key_header(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def test_every_response_reports_its_cost_and_the_budget_left(gateways: Gateways):
    async with gateways(rate_limit_budget=100, rate_limit_window_seconds=60) as gql:
        key = await issue_key(gql, "users:read")
        first = await gql.execute(USERS_10, headers=key_header(key))
        second = await gql.execute(USERS_10, headers=key_header(key))

    cost = second.body["extensions"]["cost"]
    assert first.body["extensions"]["cost"]["remaining"] == 79
    assert cost["requested"] == 21
    assert cost["limit"] == 100
    assert cost["remaining"] == 58
    assert datetime.fromisoformat(cost["resetAt"]).timestamp() > time.time()
    assert second.headers["RateLimit-Limit"] == "100"
    assert second.headers["RateLimit-Remaining"] == "58"
    assert 55 <= int(second.headers["RateLimit-Reset"]) <= 60  # the 60 s window just began


async def test_an_operation_above_the_maximum_is_refused_without_executing(
    gateways: Gateways, connection
):
    await make_user(connection)
    async with gateways(cost_max_per_operation=20, rate_limit_budget=100) as gql:
        token = gql.token("reader", "users:read")
        refused, statements = await gql.counted(USERS_10, token=token)
        check = await gql.execute("{ rateLimit { remaining } }", token=token)

    assert refused.status == 400
    assert refused.data is None
    assert refused.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert "21" in refused.errors[0]["message"]
    assert refused.body["extensions"]["cost"] == {"requested": 21, "maximum": 20}
    assert statements == 0
    assert check.data["rateLimit"]["remaining"] == 100  # nothing was charged


async def test_an_operation_above_the_keys_whole_budget_is_too_expensive_not_rate_limited(
    gateways: Gateways,
):
    async with gateways() as gql:
        key = await issue_key(gql, "users:read", budget=10)
        response = await gql.execute(USERS_10, headers=key_header(key))

    assert response.status == 400
    assert response.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]


async def test_an_exhausted_key_gets_429_while_another_key_is_unaffected(
    gateways: Gateways, connection
):
    await make_user(connection)
    async with gateways(rate_limit_budget=50, rate_limit_window_seconds=60) as gql:
        spender = await issue_key(gql, "users:read")
        other = await issue_key(gql, "users:read")
        allowed = [await gql.execute(USERS_10, headers=key_header(spender)) for _ in range(2)]
        refused, statements = await gql.counted(USERS_10, headers=key_header(spender))
        unaffected = await gql.execute(USERS_10, headers=key_header(other))

    assert [response.status for response in allowed] == [200, 200]
    assert refused.status == 429
    assert refused.codes == ["RATE_LIMITED"]
    assert refused.data is None
    assert statements == 0
    # 42 of 50 spent, 21 wanted: the current window must end (~60 s) and then fade to 29 points
    assert 76 <= int(refused.headers["Retry-After"]) <= 80
    assert refused.headers["RateLimit-Remaining"] == "8"
    assert "retry in" in refused.errors[0]["message"]
    assert unaffected.status == 200
    assert unaffected.body["extensions"]["cost"]["remaining"] == 29


async def test_a_keys_own_budget_replaces_the_default(gateways: Gateways):
    async with gateways(rate_limit_budget=1000) as gql:
        key = await issue_key(gql, "users:read", budget=30)
        response = await gql.execute(ME, headers=key_header(key))

    assert response.headers["RateLimit-Limit"] == "30"
    assert response.body["extensions"]["cost"]["remaining"] == 29


async def test_users_are_budgeted_per_subject_and_anonymous_callers_per_address(
    gateways: Gateways,
):
    async with gateways(rate_limit_budget=100) as gql:
        alice = gql.token("alice")
        await gql.execute(ME, token=alice)
        alice_again = await gql.execute(ME, token=gql.token("alice"))  # a new token, same subject
        bob = await gql.execute(ME, token=gql.token("bob"))
        anonymous = await gql.execute(ME)

    assert alice_again.body["extensions"]["cost"]["remaining"] == 98
    assert bob.body["extensions"]["cost"]["remaining"] == 99
    assert anonymous.body["extensions"]["cost"]["remaining"] == 99


async def test_rate_limit_field_checks_the_budget_without_spending_it(gateways: Gateways):
    async with gateways(rate_limit_budget=100) as gql:
        key = await issue_key(gql, "users:read")
        await gql.execute(ME, headers=key_header(key))
        checks = [
            await gql.execute(
                "{ rateLimit { cost limit remaining resetAt } }", headers=key_header(key)
            )
            for _ in range(3)
        ]
        combined = await gql.execute(
            "{ me { name } rateLimit { cost remaining } }", headers=key_header(key)
        )

    for check in checks:
        assert check.data["rateLimit"]["cost"] == 0
        assert check.data["rateLimit"]["limit"] == 100
        assert check.data["rateLimit"]["remaining"] == 99
        assert datetime.fromisoformat(check.data["rateLimit"]["resetAt"]).timestamp() > time.time()
    assert combined.data["rateLimit"] == {"cost": 1, "remaining": 98}


async def test_mutations_pay_their_base_cost(gateways: Gateways):
    async with gateways(rate_limit_budget=100, cost_mutation_base=10) as gql:
        response = await gql.execute(
            'mutation { revokeApiKey(id: "nosuchkey000") { id } }',
            token=gql.token("admin", "admin:api-keys"),
        )

    assert response.body["extensions"]["cost"]["requested"] == 11


async def test_a_hundred_concurrent_requests_on_two_gateways_never_overspend(gateways: Gateways):
    budget = 37
    async with gateways(rate_limit_budget=budget) as one, gateways(rate_limit_budget=budget) as two:
        key = await issue_key(one, "users:read")
        await one.execute(
            "{ rateLimit { remaining } }", headers=key_header(key)
        )  # warm the key cache
        responses = await asyncio.gather(
            *((one if n % 2 else two).execute(ME, headers=key_header(key)) for n in range(100))
        )
        after = await two.execute("{ rateLimit { remaining } }", headers=key_header(key))

    statuses = [response.status for response in responses]
    assert statuses.count(200) == budget
    assert statuses.count(429) == 100 - budget
    assert after.data["rateLimit"]["remaining"] == 0


async def test_budgets_can_be_turned_off(gateways: Gateways):
    async with gateways(rate_limit_enabled=False) as gql:
        response = await gql.execute("{ me { name } rateLimit { remaining } }")

    assert response.status == 200
    assert response.data == {"me": None, "rateLimit": None}
    assert "extensions" not in response.body
    assert "RateLimit-Limit" not in response.headers


async def test_an_unreachable_budget_store_serves_unmetered_and_warns(gateways: Gateways, caplog):
    async with gateways(redis_url="redis://127.0.0.1:1/0") as gql:
        response = await gql.execute("{ me { name } rateLimit { remaining } }")

    assert response.status == 200
    assert response.data == {"me": None, "rateLimit": None}
    assert response.body["extensions"]["cost"] == {"requested": 1}
    assert "RateLimit-Limit" not in response.headers
    assert "rate-limit storage unreachable" in caplog.text


async def test_a_fragment_bomb_is_refused_as_too_expensive_at_once(gateways: Gateways):
    spreads = " ".join(["...F{below}"] * 10)
    fragments = ["fragment F0 on Content { author { name } }"] + [
        f"fragment F{level} on Content {{ {spreads.format(below=level - 1)} }}"
        for level in range(1, 8)
    ]
    bomb = '{ content(id: "Q29udGVudDox") { ...F7 } } ' + " ".join(fragments)
    async with gateways(cost_max_per_operation=1000) as gql:
        token = gql.token("reader", "content:read")
        started = time.perf_counter()
        refused, statements = await gql.counted(bomb, token=token)
        elapsed = time.perf_counter() - started

    assert refused.status == 400
    assert refused.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert refused.body["extensions"]["cost"]["requested"] > 1000
    assert statements == 0
    assert elapsed < 1.0


async def test_variables_that_do_not_coerce_charge_nothing(gateways: Gateways):
    query = "query($f: Int) { contents(first: $f) { edges { node { title } } } }"
    async with gateways(rate_limit_budget=1000) as gql:
        token = gql.token("reader", "content:read")
        refused = await gql.execute(query, {"f": "abc"}, token=token)
        check = await gql.execute("{ rateLimit { remaining } }", token=token)

    assert refused.status == 400
    assert refused.data is None
    assert check.data["rateLimit"]["remaining"] == 1000


async def test_variables_that_do_not_coerce_are_bad_user_input(gateways: Gateways):
    query = "query($f: Int) { contents(first: $f) { edges { node { title } } } }"
    async with gateways() as gql:
        refused = await gql.execute(query, {"f": "abc"}, token=gql.token("reader", "content:read"))

    assert refused.status == 400
    assert "data" not in refused.body
    assert refused.codes == ["BAD_USER_INPUT"]
    assert "$f" in refused.errors[0]["message"]


async def test_a_missing_required_variable_is_bad_user_input(gateways: Gateways):
    query = "query($f: Int!) { contents(first: $f) { edges { node { title } } } }"
    async with gateways() as gql:
        refused = await gql.execute(query, {}, token=gql.token("reader", "content:read"))

    assert refused.status == 400
    assert refused.codes == ["BAD_USER_INPUT"]


async def test_an_invalid_document_is_still_a_validation_failure(gateways: Gateways):
    query = "query($f: Int) { contents(first: $f) { edges { node { nosuchfield } } } }"
    async with gateways() as gql:
        refused = await gql.execute(query, {"f": 1}, token=gql.token("reader", "content:read"))

    assert refused.status == 400
    assert refused.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_reset_at_is_a_whole_utc_second_with_z_in_the_field_and_the_extension(
    gateways: Gateways,
):
    whole_second_utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    async with gateways(rate_limit_budget=100, rate_limit_window_seconds=60) as gql:
        key = await issue_key(gql, "users:read")
        response = await gql.execute(
            "{ me { name } rateLimit { resetAt } }", headers=key_header(key)
        )

    field = response.data["rateLimit"]["resetAt"]
    extension = response.body["extensions"]["cost"]["resetAt"]
    assert whole_second_utc.fullmatch(field), field
    assert field == extension
    assert 55 <= datetime.fromisoformat(field).timestamp() - time.time() <= 61
