"""Specifications of idempotency keys on the order mutations, over HTTP.

Real concurrency across processes and crashes are in ``test_exactly_once.py``; these run on
the test's rolled-back transaction, with gateways that behave like replicas sharing it.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from datasources.tables import PaymentStatus, idempotency_keys, orders, payments
from tests.factories import make_user
from tests.helpers import JSON_HEADERS
from tests.ordering import PLACE_ORDER, WRITE, line, order_pk, place, written


async def test_a_retry_with_the_same_key_is_answered_without_running_again(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    first = await place(gateway, token, [line(3, 2)], key="order-1")
    before = await written(connection)
    provider_calls = payments_service.requests()

    retry, calls = await gateway.costed(
        PLACE_ORDER,
        variables={"input": {"lines": [line(3, 2)], "idempotencyKey": "order-1"}},
        token=token,
    )

    assert retry.errors == []
    assert retry.data == first.data
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert calls.content == 0
    assert payments_service.requests() == provider_calls
    assert await written(connection) == before


async def test_the_header_key_works_like_the_input_field(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)
    headers = {"Idempotency-Key": '"2f1c9a7e-5b1d-4d8a-9c1e-0a6f3e2b7c44"'}

    first = await place(gateway, token, [line(4)], headers=headers)
    retry = await place(gateway, token, [line(4)], headers=headers)
    same_in_input = await place(
        gateway, token, [line(4)], key="2f1c9a7e-5b1d-4d8a-9c1e-0a6f3e2b7c44"
    )

    assert first.errors == []
    assert order_pk(retry) == order_pk(first) == order_pk(same_in_input)
    assert "Idempotent-Replayed" not in first.headers


async def test_the_same_key_with_a_different_request_is_refused(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)
    await place(gateway, token, [line(3)], key="order-2")
    before = await written(connection)

    response = await place(gateway, token, [line(3, 2)], key="order-2")

    assert response.status == 422
    assert response.codes == ["IDEMPOTENCY_KEY_REUSED"]
    assert response.data is None
    assert await written(connection) == before


async def test_a_key_names_the_same_request_whatever_the_id_encoding(gateway, customer):
    token = gateway.token(customer.subject, *WRITE)
    first = await place(gateway, token, [line(3)], key="order-encoding")

    # A different operation text and selection: the request is the mutation's input.
    retry = await gateway.execute(
        """mutation Again($lines: [OrderLineInput!]!) {
             placeOrder(input: {lines: $lines, idempotencyKey: "order-encoding"}) {
               order { number } } }""",
        {"lines": [line(3)]},
        token=token,
    )

    assert retry.errors == []
    assert (
        retry.data["placeOrder"]["order"]["number"] == first.data["placeOrder"]["order"]["number"]
    )


async def test_keys_belong_to_their_caller(gateway, connection, customer):
    other = await make_user(connection)

    mine = await place(gateway, gateway.token(customer.subject, *WRITE), [line(3)], key="k")
    theirs = await place(gateway, gateway.token(other.subject, *WRITE), [line(3)], key="k")

    assert order_pk(mine) != order_pk(theirs)


async def test_two_different_keys_for_one_mutation_are_refused(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)
    before = await written(connection)

    response = await place(
        gateway, token, [line(3)], key="from-input", headers={"Idempotency-Key": "from-header"}
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "idempotencyKey"]
    assert await written(connection) == before


@pytest.mark.parametrize(
    "header",
    ["", '"unterminated', "has space", "x" * 256, '"bad \\escape"', "caf\u00e9"],
    ids=["empty", "unterminated", "space", "too-long", "bad-escape", "non-ascii"],
)
async def test_a_malformed_idempotency_key_header_is_refused_before_anything_runs(
    gateway, customer, header
):
    token = gateway.token(customer.subject, *WRITE)

    response, statements = await gateway.post(
        {"query": PLACE_ORDER, "variables": {"input": {"lines": [line(3)]}}},
        token=token,
        headers={"Idempotency-Key": header.encode()},  # raw bytes, as a client may send
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == 0


async def test_two_idempotency_key_headers_are_refused(gateway, customer):
    token = gateway.token(customer.subject, *WRITE)

    response = await gateway.http.post(
        "/graphql",
        json={"query": PLACE_ORDER, "variables": {"input": {"lines": [line(3)]}}},
        headers=[
            *JSON_HEADERS.items(),
            ("Authorization", f"Bearer {token}"),
            ("Idempotency-Key", "a"),
            ("Idempotency-Key", "b"),
        ],
    )

    assert response.status_code == 400


async def test_a_malformed_key_in_the_input_is_bad_user_input(gateway, customer):
    response = await place(
        gateway, gateway.token(customer.subject, *WRITE), [line(3)], key="no spaces please"
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "idempotencyKey"]


async def test_concurrent_retries_in_one_process_share_one_run(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    payments_service.set_faults(latency_ms=300)
    before = payments_service.requests()

    answers = await asyncio.gather(
        *(place(gateway, token, [line(8)], key="burst") for _ in range(20))
    )

    assert {order_pk(answer) for answer in answers} == {order_pk(answers[0])}
    assert payments_service.requests() - before == 1
    stored = (
        await connection.execute(select(orders.c.id).where(orders.c.user_id == customer.id))
    ).all()
    assert len(stored) == 1


async def test_a_retry_while_the_first_runs_waits_then_is_told_when_to_retry(
    make_gateway, connection, customer, payments_service
):
    first_replica = await make_gateway(idempotency_wait_seconds=0.2)
    second_replica = await make_gateway(idempotency_wait_seconds=0.2)
    token = first_replica.token(customer.subject, *WRITE)
    payments_service.set_faults(latency_ms=1500)

    running = asyncio.ensure_future(place(first_replica, token, [line(9)], key="slow"))
    await asyncio.sleep(0.5)  # the first holds the key, waiting for the provider
    retry = await place(second_replica, token, [line(9)], key="slow")
    first = await running

    assert retry.status == 409
    assert retry.codes == ["IDEMPOTENCY_KEY_IN_USE"]
    assert int(retry.headers["Retry-After"]) >= 1
    assert retry.errors[0]["extensions"]["retryAfter"] == int(retry.headers["Retry-After"])
    assert first.errors == []
    payments_service.clear_faults()
    again = await place(second_replica, token, [line(9)], key="slow")
    assert order_pk(again) == order_pk(first)


async def test_a_failed_first_try_leaves_the_key_free_for_a_retry_that_completes_it(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    payments_service.set_faults(error_rate=1.0, error_status=503)
    failed = await place(gateway, token, [line(11)], key="resume")
    payments_service.clear_faults()

    retry = await place(gateway, token, [line(11)], key="resume")

    assert failed.codes == ["UPSTREAM_UNAVAILABLE"]
    assert retry.errors == []
    assert retry.data["placeOrder"]["payment"]["status"] == "PROCESSING"
    count = (
        await connection.execute(select(orders.c.id).where(orders.c.user_id == customer.id))
    ).all()
    assert len(count) == 1
    (row,) = (
        await connection.execute(
            select(idempotency_keys.c.state).where(idempotency_keys.c.key == "resume")
        )
    ).all()
    assert row.state == "completed"


TWO_PLACEMENTS = """
mutation($a: PlaceOrderInput!, $b: PlaceOrderInput!) {
  a: placeOrder(input: $a) { order { id } }
  b: placeOrder(input: $b) { order { id } }
}"""


async def test_a_header_key_over_two_keyed_mutations_is_refused_before_anything_runs(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    before = await written(connection)
    provider_calls = payments_service.requests()

    response, statements = await gateway.post(
        {
            "query": TWO_PLACEMENTS,
            "variables": {"a": {"lines": [line(3)]}, "b": {"lines": [line(4)]}},
        },
        token=token,
        headers={"Idempotency-Key": "two-fields"},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in response.json()
    assert statements == 0
    assert payments_service.requests() == provider_calls
    assert await written(connection) == before


async def test_two_keyed_mutations_with_keys_of_their_own_both_run(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)

    response, _ = await gateway.post(
        {
            "query": TWO_PLACEMENTS,
            "variables": {
                "a": {"lines": [line(3)], "idempotencyKey": "first-of-two"},
                "b": {"lines": [line(4)], "idempotencyKey": "second-of-two"},
            },
        },
        token=token,
    )

    body = response.json()
    assert "errors" not in body
    assert body["data"]["a"]["order"]["id"] != body["data"]["b"]["order"]["id"]


async def test_a_header_key_with_one_keyed_mutation_beside_others_is_accepted(gateway, customer):
    token = gateway.token(customer.subject, *WRITE, "users:write")
    query = """mutation($a: PlaceOrderInput!) {
      a: placeOrder(input: $a) { order { id } }
      updateProfile(input: {name: "Beside"}) { user { name } }
    }"""

    response, _ = await gateway.post(
        {"query": query, "variables": {"a": {"lines": [line(3)]}}},
        token=token,
        headers={"Idempotency-Key": "one-keyed"},
    )

    assert "errors" not in response.json()


PLACE_WITH_ORDER_PAYMENT = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status payment { status } } payment { status } }
}"""


async def test_a_replay_answers_the_order_and_its_payment_as_first_answered(
    gateway, connection, customer
):
    token = gateway.token(customer.subject, *WRITE)
    variables = {"input": {"lines": [line(3)], "idempotencyKey": "as-first-answered"}}
    first = await gateway.execute(PLACE_WITH_ORDER_PAYMENT, variables, token=token)
    # Meanwhile the provider's webhook moves the payment on.
    await connection.execute(
        update(payments)
        .where(payments.c.order_id == order_pk(first))
        .values(status=PaymentStatus.PAID)
    )

    replay = await gateway.execute(PLACE_WITH_ORDER_PAYMENT, variables, token=token)

    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.data == first.data
    answered = replay.data["placeOrder"]
    assert answered["order"]["payment"] == answered["payment"]
