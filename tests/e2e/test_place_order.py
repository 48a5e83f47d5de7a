"""Specifications of placeOrder over HTTP: prices, validation, payments and their cost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datasources.tables import order_lines, orders, outbox, payments
from demo.catalog import PRODUCT_COUNT
from tests.helpers import global_id
from tests.ordering import WRITE, line, order_pk, place, total_of, written


async def test_an_order_is_priced_from_the_catalog_and_its_payment_started(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)

    response = await place(gateway, token, [line(3, 2), line(7)])

    assert response.errors == []
    placed = response.data["placeOrder"]
    assert placed["order"]["status"] == "PENDING"
    assert placed["order"]["total"] == {"amount": total_of((3, 2), (7, 1)), "currency": "EUR"}
    assert placed["payment"]["status"] == "PROCESSING"
    assert placed["payment"]["amount"] == placed["order"]["total"]
    assert placed["payment"]["clientSecret"].startswith("pi_")
    (intent,) = payments_service.intents(placed["order"]["number"])
    assert intent["amount"] == round(float(total_of((3, 2), (7, 1))) * 100)
    assert intent["metadata"] == {"order_id": str(order_pk(response))}


async def test_placing_an_order_costs_one_content_call_one_provider_call_and_fixed_sql(
    gateway, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    document = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }"
    before = payments_service.requests()

    small, one_line = await gateway.costed(
        document, variables={"input": {"lines": [line(1)]}}, token=token
    )
    large, fifty_lines = await gateway.costed(
        document, variables={"input": {"lines": [line(cid) for cid in range(2, 52)]}}, token=token
    )

    assert small.errors == large.errors == []
    assert one_line.content == fifty_lines.content == 1
    assert payments_service.requests() - before == 2
    # The lines are one INSERT: fifty cost what one does. (The count includes the test
    # database's SAVEPOINT/RELEASE pair around each of the three transactions.)
    assert fifty_lines.sql == one_line.sql <= 20


async def test_a_client_price_is_never_read(gateway, customer):
    token = gateway.token(customer.subject, *WRITE)

    response = await gateway.execute(
        """mutation($id: ID!) { placeOrder(input: {lines: [{contentId: $id, quantity: 1,
             unitPrice: "0.01"}]}) { order { id } } }""",
        {"id": global_id("Content", 3)},
        token=token,
    )

    assert response.status == 400
    assert response.codes == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], ["input", "lines"]),
        ([line(cid) for cid in range(1, 52)], ["input", "lines"]),
        ([line(3, 0)], ["input", "lines", 0, "quantity"]),
        ([line(3), line(4, 100)], ["input", "lines", 1, "quantity"]),
        ([line(3), line(3)], ["input", "lines", 1, "contentId"]),
        ([line(3), line(10**15)], ["input", "lines", 1, "contentId"]),
        ([line(PRODUCT_COUNT + 1)], ["input", "lines", 0, "contentId"]),
        ([{"contentId": global_id("User", 1), "quantity": 1}], ["input", "lines", 0, "contentId"]),
    ],
    ids=[
        "empty",
        "51-lines",
        "zero",
        "100",
        "repeated",
        "unknown",
        "an-article",
        "not-a-content-id",
    ],
)
async def test_an_invalid_line_is_bad_user_input_naming_it_and_nothing_is_written(
    gateway, connection, customer, lines, field
):
    token = gateway.token(customer.subject, *WRITE)
    before = await written(connection)

    response = await place(gateway, token, lines, key="refused-key")

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == field
    assert response.data is None
    assert await written(connection) == before


async def test_a_draft_cannot_be_ordered(gateway, connection, customer, catalog):
    from tests.helpers import first_draft  # noqa: PLC0415

    token = gateway.token(customer.subject, *WRITE, "content:read")
    before = await written(connection)

    response = await place(gateway, token, [line(3), line(first_draft(catalog))])

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "lines", 1, "contentId"]
    assert "no purchasable product" in response.errors[0]["message"]
    assert await written(connection) == before


async def test_an_expected_currency_other_than_the_prices_is_refused(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)

    response = await place(gateway, token, [line(3)], currency="USD")

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "currency"]


async def test_an_order_is_always_the_callers_own(gateway, connection, customer):
    token = gateway.token(customer.subject, *WRITE)

    response = await place(gateway, token, [line(3)])

    row = (
        await connection.execute(select(orders.c.user_id).where(orders.c.id == order_pk(response)))
    ).one()
    assert row.user_id == customer.id


async def test_a_partner_key_cannot_place_orders(gateway, connection):
    from tests.helpers import issue_key, key_header  # noqa: PLC0415

    key = await issue_key(gateway, "orders:write")

    response = await place(gateway, None, [line(3)], headers=key_header(key))  # type: ignore[arg-type]

    assert response.codes == ["FORBIDDEN"]


async def test_placing_an_order_needs_orders_write(gateway, connection, customer):
    before = await written(connection)

    response = await place(gateway, gateway.token(customer.subject, "orders:read"), [line(3)])

    assert response.codes == ["FORBIDDEN"]
    assert await written(connection) == before


async def test_the_order_its_lines_payment_and_event_are_written_together(
    gateway, connection, customer
):
    token = gateway.token(customer.subject, *WRITE)

    response = await place(gateway, token, [line(5, 3)])

    order_id = order_pk(response)
    lines = (
        await connection.execute(
            select(order_lines.c.content_id, order_lines.c.quantity).where(
                order_lines.c.order_id == order_id
            )
        )
    ).all()
    assert [tuple(row) for row in lines] == [(5, 3)]
    payment = (
        await connection.execute(select(payments).where(payments.c.order_id == order_id))
    ).one()
    assert payment.status == "PROCESSING"
    assert payment.intent_id is not None
    events = (
        await connection.execute(
            select(outbox.c.type, outbox.c.version)
            .where(outbox.c.order_id == order_id)
            .order_by(outbox.c.version)
        )
    ).all()
    assert [tuple(row) for row in events] == [("ORDER_PLACED", 1), ("PAYMENT_PROCESSING", 2)]


async def test_a_provider_outage_leaves_the_order_pending_and_its_payment_not_started(
    gateway, connection, customer, payments_service
):
    token = gateway.token(customer.subject, *WRITE)
    payments_service.set_faults(error_rate=1.0, error_status=503)

    response = await place(gateway, token, [line(3)], key="outage-1")

    assert response.codes == ["UPSTREAM_UNAVAILABLE"]
    rows = (
        await connection.execute(select(orders.c.status, payments.c.status).join(payments))
    ).all()
    assert [tuple(row) for row in rows][-1] == ("PENDING", "NOT_STARTED")


async def test_without_a_payment_provider_an_order_is_refused_and_nothing_is_written(
    make_gateway, connection, customer, payments_service
):
    gateway = await make_gateway(payments_url=None)
    token = gateway.token(customer.subject, *WRITE)
    before = await written(connection)
    content_calls = gateway.calls("content")

    response = await place(gateway, token, [line(3)], key="no-provider-1")

    assert response.codes == ["UPSTREAM_UNAVAILABLE"]
    assert response.errors[0]["message"] == "the payments service is not configured"
    assert response.data is None
    # No order, line, payment, event or idempotency key: a retry finds its key unused.
    assert await written(connection) == before
    assert gateway.calls("content") == content_calls  # refused before pricing, too


async def test_a_retry_once_the_provider_is_configured_places_the_order_under_the_same_key(
    make_gateway, connection, customer, payments_service
):
    unconfigured = await make_gateway(payments_url=None)
    configured = await make_gateway()
    token = unconfigured.token(customer.subject, *WRITE)
    await place(unconfigured, token, [line(3)], key="no-provider-2")

    response = await place(configured, token, [line(3)], key="no-provider-2")

    assert response.errors == []
    assert response.data["placeOrder"]["payment"]["status"] == "PROCESSING"
    (intent,) = payments_service.intents(response.data["placeOrder"]["order"]["number"])
    assert intent["metadata"] == {"order_id": str(order_pk(response))}


@pytest.mark.parametrize("orders_placed", [2, 12])
async def test_the_payments_of_a_page_of_orders_cost_one_statement(
    gateway, connection, customer, orders_placed
):
    token = gateway.token(customer.subject, *WRITE)
    for n in range(orders_placed):
        await place(gateway, token, [line(20 + n)])

    response, statements = await gateway.counted(
        "{ orders(first: 20) { edges { node { status payment { status amount { amount } } } } } }",
        token=token,
    )

    assert response.errors == []
    edges = response.data["orders"]["edges"]
    assert len(edges) == orders_placed
    assert {edge["node"]["payment"]["status"] for edge in edges} == {"PROCESSING"}
    assert statements == 3  # the viewer, the page, the payments
