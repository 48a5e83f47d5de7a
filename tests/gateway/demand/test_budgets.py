"""Specifications of cost budgets: feedback on every response, refusals that execute nothing,
per-principal budgets shared exactly by concurrent requests and by several gateways."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime

from tests.factories import make_user
from tests.helpers import issue_key, key_header

ME = "{ me { name } }"  # costs 1; a partner's `me` is null, so no SQL either
USERS_10 = "{ users(first: 10) { edges { node { name } } } }"  # costs 21


async def test_every_response_reports_its_cost_and_the_budget_left(make_gateway):
    gateway = await make_gateway(rate_limit_budget=100, rate_limit_window_seconds=60)
    key = await issue_key(gateway, "users:read")
    first = await gateway.execute(USERS_10, headers=key_header(key))
    second = await gateway.execute(USERS_10, headers=key_header(key))

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
    make_gateway, connection
):
    await make_user(connection)
    gateway = await make_gateway(cost_max_per_operation=20, rate_limit_budget=100)
    token = gateway.token("reader", "users:read")
    refused, statements = await gateway.counted(USERS_10, token=token)
    check = await gateway.execute("{ rateLimit { remaining } }", token=token)

    assert refused.status == 400
    assert refused.data is None
    assert refused.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert "21" in refused.errors[0]["message"]
    assert refused.body["extensions"]["cost"] == {"requested": 21, "maximum": 20}
    assert statements == 0
    assert check.data["rateLimit"]["remaining"] == 100  # nothing was charged


async def test_an_operation_above_the_keys_whole_budget_is_too_expensive_not_rate_limited(
    make_gateway,
):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read", budget=10)
    response = await gateway.execute(USERS_10, headers=key_header(key))

    assert response.status == 400
    assert response.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]


async def test_an_exhausted_key_gets_429_while_another_key_is_unaffected(make_gateway, connection):
    await make_user(connection)
    gateway = await make_gateway(rate_limit_budget=50, rate_limit_window_seconds=60)
    spender = await issue_key(gateway, "users:read")
    other = await issue_key(gateway, "users:read")
    allowed = [await gateway.execute(USERS_10, headers=key_header(spender)) for _ in range(2)]
    refused, statements = await gateway.counted(USERS_10, headers=key_header(spender))
    unaffected = await gateway.execute(USERS_10, headers=key_header(other))

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


async def test_a_keys_own_budget_replaces_the_default(make_gateway):
    gateway = await make_gateway(rate_limit_budget=1000)
    key = await issue_key(gateway, "users:read", budget=30)
    response = await gateway.execute(ME, headers=key_header(key))

    assert response.headers["RateLimit-Limit"] == "30"
    assert response.body["extensions"]["cost"]["remaining"] == 29


async def test_users_are_budgeted_per_subject_and_anonymous_callers_per_address(
    make_gateway,
):
    gateway = await make_gateway(rate_limit_budget=100)
    alice = gateway.token("alice")
    await gateway.execute(ME, token=alice)
    alice_again = await gateway.execute(
        ME, token=gateway.token("alice")
    )  # a new token, same subject
    bob = await gateway.execute(ME, token=gateway.token("bob"))
    anonymous = await gateway.execute(ME)

    assert alice_again.body["extensions"]["cost"]["remaining"] == 98
    assert bob.body["extensions"]["cost"]["remaining"] == 99
    assert anonymous.body["extensions"]["cost"]["remaining"] == 99


async def test_rate_limit_field_checks_the_budget_without_spending_it(make_gateway):
    gateway = await make_gateway(rate_limit_budget=100)
    key = await issue_key(gateway, "users:read")
    await gateway.execute(ME, headers=key_header(key))
    checks = [
        await gateway.execute(
            "{ rateLimit { cost limit remaining resetAt } }", headers=key_header(key)
        )
        for _ in range(3)
    ]
    combined = await gateway.execute(
        "{ me { name } rateLimit { cost remaining } }", headers=key_header(key)
    )

    for check in checks:
        assert check.data["rateLimit"]["cost"] == 0
        assert check.data["rateLimit"]["limit"] == 100
        assert check.data["rateLimit"]["remaining"] == 99
        assert datetime.fromisoformat(check.data["rateLimit"]["resetAt"]).timestamp() > time.time()
    assert combined.data["rateLimit"] == {"cost": 1, "remaining": 98}


async def test_mutations_pay_their_base_cost(make_gateway):
    gateway = await make_gateway(rate_limit_budget=100, cost_mutation_base=10)
    response = await gateway.execute(
        'mutation { revokeApiKey(id: "nosuchkey000") { id } }',
        token=gateway.token("admin", "admin:api-keys"),
    )

    assert response.body["extensions"]["cost"]["requested"] == 11


async def test_a_hundred_concurrent_requests_on_two_gateways_never_overspend(make_gateway):
    budget = 37
    one = await make_gateway(rate_limit_budget=budget)
    two = await make_gateway(rate_limit_budget=budget)
    key = await issue_key(one, "users:read")
    await one.execute("{ rateLimit { remaining } }", headers=key_header(key))  # warm the key cache
    responses = await asyncio.gather(
        *((one if n % 2 else two).execute(ME, headers=key_header(key)) for n in range(100))
    )
    after = await two.execute("{ rateLimit { remaining } }", headers=key_header(key))

    statuses = [response.status for response in responses]
    assert statuses.count(200) == budget
    assert statuses.count(429) == 100 - budget
    assert after.data["rateLimit"]["remaining"] == 0


async def test_budgets_can_be_turned_off(make_gateway):
    gateway = await make_gateway(rate_limit_enabled=False)
    response = await gateway.execute("{ me { name } rateLimit { remaining } }")

    assert response.status == 200
    assert response.data == {"me": None, "rateLimit": None}
    assert "extensions" not in response.body
    assert "RateLimit-Limit" not in response.headers


async def test_an_unreachable_budget_store_serves_unmetered_and_warns(make_gateway, caplog):
    gateway = await make_gateway(redis_url="redis://127.0.0.1:1/0")
    response = await gateway.execute("{ me { name } rateLimit { remaining } }")

    assert response.status == 200
    assert response.data == {"me": None, "rateLimit": None}
    assert response.body["extensions"]["cost"] == {"requested": 1}
    assert "RateLimit-Limit" not in response.headers
    assert "rate-limit storage unreachable" in caplog.text


async def test_a_fragment_bomb_is_refused_as_too_expensive_at_once(make_gateway):
    spreads = " ".join(["...F{below}"] * 10)
    fragments = ["fragment F0 on Content { author { name } }"] + [
        f"fragment F{level} on Content {{ {spreads.format(below=level - 1)} }}"
        for level in range(1, 8)
    ]
    bomb = '{ content(id: "Q29udGVudDox") { ...F7 } } ' + " ".join(fragments)
    gateway = await make_gateway(cost_max_per_operation=1000)
    token = gateway.token("reader", "content:read")
    started = time.perf_counter()
    refused, statements = await gateway.counted(bomb, token=token)
    elapsed = time.perf_counter() - started

    assert refused.status == 400
    assert refused.codes == ["COST_ESTIMATED_TOO_EXPENSIVE"]
    assert refused.body["extensions"]["cost"]["requested"] > 1000
    assert statements == 0
    assert elapsed < 1.0


async def test_variables_that_do_not_coerce_charge_nothing(make_gateway):
    query = "query($f: Int) { contents(first: $f) { edges { node { title } } } }"
    gateway = await make_gateway(rate_limit_budget=1000)
    token = gateway.token("reader", "content:read")
    refused = await gateway.execute(query, {"f": "abc"}, token=token)
    check = await gateway.execute("{ rateLimit { remaining } }", token=token)

    assert refused.status == 400
    assert refused.data is None
    assert check.data["rateLimit"]["remaining"] == 1000


async def test_variables_that_do_not_coerce_are_bad_user_input(make_gateway):
    query = "query($f: Int) { contents(first: $f) { edges { node { title } } } }"
    gateway = await make_gateway()
    refused = await gateway.execute(
        query, {"f": "abc"}, token=gateway.token("reader", "content:read")
    )

    assert refused.status == 400
    assert "data" not in refused.body
    assert refused.codes == ["BAD_USER_INPUT"]
    assert "$f" in refused.errors[0]["message"]


async def test_a_missing_required_variable_is_bad_user_input(make_gateway):
    query = "query($f: Int!) { contents(first: $f) { edges { node { title } } } }"
    gateway = await make_gateway()
    refused = await gateway.execute(query, {}, token=gateway.token("reader", "content:read"))

    assert refused.status == 400
    assert refused.codes == ["BAD_USER_INPUT"]


async def test_an_invalid_document_is_still_a_validation_failure(make_gateway):
    query = "query($f: Int) { contents(first: $f) { edges { node { nosuchfield } } } }"
    gateway = await make_gateway()
    refused = await gateway.execute(query, {"f": 1}, token=gateway.token("reader", "content:read"))

    assert refused.status == 400
    assert refused.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_reset_at_is_a_whole_utc_second_with_z_in_the_field_and_the_extension(
    make_gateway,
):
    whole_second_utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    gateway = await make_gateway(rate_limit_budget=100, rate_limit_window_seconds=60)
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(
        "{ me { name } rateLimit { resetAt } }", headers=key_header(key)
    )

    field = response.data["rateLimit"]["resetAt"]
    extension = response.body["extensions"]["cost"]["resetAt"]
    assert whole_second_utc.fullmatch(field), field
    assert field == extension
    assert 55 <= datetime.fromisoformat(field).timestamp() - time.time() <= 61
