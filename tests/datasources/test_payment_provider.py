"""The payment provider client against the demo provider over HTTP: POSTs retried only under
their idempotency key, so a retry (or a timed-out first try) never makes a second intent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from contract.errors import UpstreamError, UpstreamTimeoutError
from datasources.instrumentation import DatasourceMetrics
from datasources.payment_provider import (
    MalformedEventError,
    PaymentProvider,
    from_minor_units,
    parse_event,
    to_minor_units,
)
from datasources.resilience import Deadline, RetryPolicy
from datasources.upstream import Upstream, UpstreamConfig
from tests.upstreams import PaymentsService


@pytest.fixture
async def client(payments_service: PaymentsService) -> AsyncIterator[PaymentProvider]:
    upstream = Upstream(
        UpstreamConfig(
            name="payments",
            base_url=payments_service.base_url,
            read_timeout=0.2,
            retry=RetryPolicy(attempts=3, base_seconds=0.01),
        ),
        metrics=DatasourceMetrics(CollectorRegistry()),
    )
    yield PaymentProvider(upstream, api_key=None)
    await upstream.aclose()


async def create(client: PaymentProvider, key: str, amount: str = "19.99"):
    return await client.create_intent(
        key=key,
        amount=Decimal(amount),
        currency="EUR",
        order_id=42,
        reference=f"ref-{key}",
        deadline=Deadline(5),
    )


async def test_the_same_key_asks_for_one_intent(client, payments_service):
    first = await create(client, "same")
    again = await create(client, "same")

    assert first == again
    assert len(payments_service.intents("ref-same")) == 1
    (intent,) = payments_service.intents("ref-same")
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        1999,
        "eur",
        {"order_id": "42"},
    )


async def test_a_failing_provider_is_retried_then_unavailable(client, payments_service):
    payments_service.set_faults(error_rate=1.0, error_status=503)
    before = payments_service.requests()

    with pytest.raises(UpstreamError):
        await create(client, "down")

    assert payments_service.requests() - before == 3
    payments_service.clear_faults()
    assert payments_service.intents("ref-down") == []


async def test_a_first_try_that_timed_out_is_answered_by_the_retry_with_its_intent(
    client, payments_service
):
    payments_service.set_faults(latency_ms=400)  # the provider still creates it, too late
    with pytest.raises(UpstreamTimeoutError):
        await create(client, "slow")
    payments_service.clear_faults()
    await __import__("asyncio").sleep(0.5)

    retried = await create(client, "slow")

    (intent,) = payments_service.intents("ref-slow")
    assert retried.id == intent["id"]


async def test_voiding_a_captured_intent_says_so_instead_of_failing(client, payments_service):
    import asyncio  # noqa: PLC0415

    intent = await create(client, "captured")
    await asyncio.sleep(0.2)

    assert await client.cancel_intent(intent_id=intent.id, key="c", deadline=Deadline(5)) is None
    refund = await client.refund(
        intent_id=intent.id,
        amount=Decimal("19.99"),
        currency="EUR",
        order_id=42,
        key="r",
        deadline=Deadline(5),
    )
    assert refund.id.startswith("re_")


async def test_a_refusal_is_a_gateway_error_never_the_providers_words(client, caplog):
    with pytest.raises(UpstreamError) as refused:
        await client.refund(
            intent_id="pi_unknown",
            amount=Decimal("1.00"),
            currency="EUR",
            order_id=1,
            key="x",
            deadline=Deadline(5),
        )

    assert refused.value.message == "the payments service is unavailable"
    assert "resource_missing" in caplog.text


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("19.99", "EUR", 1999), ("1000", "JPY", 1000), ("1.234", "KWD", 1234), ("0.10", "usd", 10)],
)
def test_amounts_cross_the_wire_in_minor_units(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


def test_an_amount_finer_than_the_currency_is_refused():
    with pytest.raises(ValueError, match="more decimals"):
        to_minor_units(Decimal("1.001"), "EUR")


def test_an_event_is_reduced_to_what_the_gateway_acts_on():
    event = parse_event(
        b'{"id": "evt_1", "type": "refund.succeeded", "data": {"object": {"object": "refund",'
        b' "id": "re_1", "payment_intent": "pi_1", "amount": 5, "currency": "eur",'
        b' "metadata": {"order_id": "12"}}}}'
    )

    assert (
        event.id,
        event.fact,
        event.intent_id,
        event.order_id,
        event.amount_minor,
        event.currency,
    ) == (
        "evt_1",
        event.fact,
        "pi_1",
        12,
        5,
        "EUR",
    )
    assert event.fact is not None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b'{"id": "", "type": "x", "data": {"object": {}}}',
        b'{"id": "e", "type": "x", "data": {"object": 1}}',
    ],
)
def test_a_body_that_is_not_an_event_is_malformed(body):
    with pytest.raises(MalformedEventError):
        parse_event(body)


def test_an_order_id_that_is_not_a_plain_number_is_ignored():
    for order in ('"0"', '"-1"', '"\u00b2"', '"1e3"', '"9999999999999999999"', "12"):
        event = parse_event(
            b'{"id": "e", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi",'
            b' "metadata": {"order_id": ' + order.encode() + b"}}}}"
        )
        assert event.order_id is None, order
