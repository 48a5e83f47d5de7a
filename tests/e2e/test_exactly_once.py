"""The acceptance of exactly-once ordering, with real processes: concurrent retries spread over
two gateways, gateways killed (SIGKILL) at the worst moments, and a provider delivering every
webhook three times, shuffled, with its faults on.

Each test has a PostgreSQL database of its own (committed for real, shared by its gateway
processes), its own Redis prefix, and the demo services over HTTP. Marked ``slow``; the number
of concurrent retries is ``GATEWAY_TEST_CONCURRENT_RETRIES`` (1000 by default).
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.tables import idempotency_keys, orders, outbox, payments, users, webhook_events
from tests.conftest import WEBHOOK_SECRET
from tests.helpers import JSON_HEADERS
from tests.ordering import CANCEL_ORDER, PLACE_ORDER, line
from tests.replicas import GatewayProcess, gateway_process

pytestmark = pytest.mark.slow

RETRIES = int(os.environ.get("GATEWAY_TEST_CONCURRENT_RETRIES", "1000"))
SCOPES = ("orders:write", "orders:read")


@pytest.fixture
def process_settings(
    tmp_path,
    scratch_url,
    redis_url,
    redis_prefix,
    identity_provider,
    content_service,
    recommendations_service,
    payments_service,
) -> dict[str, Any]:
    return {
        "env": "dev",
        "data_dir": tmp_path,
        "database_url": scratch_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "oauth_issuer": identity_provider.issuer,
        "oauth_audience": identity_provider.audience,
        "oauth_jwks_url": identity_provider.jwks_url,
        "content_url": content_service.base_url,
        "recommendations_url": recommendations_service.base_url,
        "payments_url": payments_service.base_url,
        "payments_webhook_secret": WEBHOOK_SECRET,
        "rate_limit_budget": 10**9,
    }


@pytest.fixture
async def customer(scratch, identity_provider) -> str:
    """A token of a customer in the scratch database."""
    subject = f"customer-{uuid.uuid4().hex[:8]}"
    async with scratch.begin() as connection:
        await connection.execute(
            users.insert().values(subject=subject, name="Customer", email=f"{subject}@test.example")
        )
    token: str = identity_provider.mint(subject=subject, scopes=SCOPES)
    return token


async def post(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    query: str,
    variables: dict[str, Any],
    **headers: str,
) -> httpx.Response:
    return await client.post(
        url + "/graphql",
        json={"query": query, "variables": variables},
        headers={**JSON_HEADERS, "Authorization": f"Bearer {token}", **headers},
    )


async def post_again_if_the_connection_drops(
    client: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> httpx.Response:
    """``post``, sent again as a client holding an idempotency key may: when the connection
    dropped before an answer came (on a loaded machine a server closes an idle keep-alive
    connection, uvicorn's 5 s, just as the client's lagging loop reuses it), and when the
    gateway sheds the request as overloaded (503 with ``Retry-After``), which a thousand
    requests at once on two processes provoke by design."""
    for _ in range(20):
        try:
            answer = await post(client, url, token, query, variables)
        except httpx.TransportError:
            continue
        if answer.status_code != 503 or "Retry-After" not in answer.headers:
            return answer
        await asyncio.sleep(min(float(answer.headers["Retry-After"]), 0.5))
    return await post(client, url, token, query, variables)


async def post_as_a_client_retries(
    client: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> httpx.Response:
    """``post``, honouring ``Retry-After`` on 409 as a well-behaved client does."""
    for _ in range(10):
        answer = await post(client, url, token, query, variables)
        if answer.status_code != 409:
            return answer
        await asyncio.sleep(float(answer.headers["Retry-After"]))
    raise AssertionError(f"still in use after ten tries: {answer.text}")


def placed_id(body: dict[str, Any]) -> int:
    encoded = body["data"]["placeOrder"]["order"]["id"]
    return int(base64.b64decode(encoded).decode().split(":")[1])


async def scalar(engine: AsyncEngine, query: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar_one()


async def test_concurrent_retries_across_two_processes_make_one_order_and_one_intent(
    tmp_path: Path, process_settings, scratch, customer, payments_service
):
    settings = {
        **process_settings,
        "idempotency_wait_seconds": 20,
        "request_timeout_seconds": 25,
        "idempotency_lease_seconds": 40,
        # The demo services answer from threads of this test process, busy with a thousand
        # clients: on a loaded machine an answer may take seconds.
        "content_timeout_seconds": 10,
        "payments_timeout_seconds": 10,
        "upstream_connect_timeout_seconds": 5,
        "upstream_pool_timeout_seconds": 5,
    }
    variables = {"input": {"lines": [line(3, 2), line(8)], "idempotencyKey": "one-key"}}
    async with (
        gateway_process(settings, log_dir=tmp_path, name="a") as first,
        gateway_process(settings, log_dir=tmp_path, name="b") as second,
        AsyncExitStack() as stack,
    ):
        # Many small clients: one httpx pool with hundreds of connections spends its time
        # scanning them, and the test would measure its own client.
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(timeout=60.0, limits=httpx.Limits(max_connections=25))
            )
            for _ in range(16)
        ]
        answers = await asyncio.gather(
            *(
                post_again_if_the_connection_drops(
                    clients[n % 16], (first, second)[n % 2].url, customer, PLACE_ORDER, variables
                )
                for n in range(RETRIES)
            )
        )

    statuses = {answer.status_code for answer in answers}
    assert statuses == {200}, [a.text for a in answers if a.status_code != 200][:3]
    bodies = [answer.json() for answer in answers]
    assert all("errors" not in body for body in bodies), [b for b in bodies if "errors" in b][:2]
    assert len({placed_id(body) for body in bodies}) == 1
    assert len({str(body["data"]) for body in bodies}) == 1  # every answer is the same answer
    executed = [answer for answer in answers if "idempotent-replayed" not in answer.headers]
    # One run, every other answer a replay of it (the run's own answer may have been lost with
    # its connection, and its retry replayed).
    assert len(executed) <= 1
    assert await scalar(scratch, select(func.count()).select_from(orders)) == 1
    assert await scalar(scratch, select(func.count()).select_from(payments)) == 1
    assert await scalar(scratch, select(func.count()).select_from(idempotency_keys)) == 1
    number = bodies[0]["data"]["placeOrder"]["order"]["number"]
    assert len(payments_service.intents(number)) == 1


async def _crash_then_retry(
    tmp_path: Path,
    settings: dict[str, Any],
    point: str,
    token: str,
    query: str,
    variables: dict[str, Any],
) -> httpx.Response:
    """Send the request to a gateway that dies at ``point``, then retry it on another one."""
    async with (
        gateway_process(
            {**settings, "test_crash_at": point}, log_dir=tmp_path, name="doomed"
        ) as doomed,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        with pytest.raises(httpx.TransportError):
            await post(client, doomed.url, token, query, variables)
        assert await doomed.wait_exit() == -9  # SIGKILL: nothing ran after the point
    async with (
        gateway_process(settings, log_dir=tmp_path, name="survivor") as survivor,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        return await post_as_a_client_retries(client, survivor.url, token, query, variables)


@pytest.fixture
def crash_settings(process_settings) -> dict[str, Any]:
    # A killed request's key is taken over once its lease runs out: short, for a quick test.
    return {
        **process_settings,
        "request_timeout_seconds": 2,
        "idempotency_lease_seconds": 3,
        "idempotency_wait_seconds": 8,
    }


async def test_killed_after_the_order_is_written_a_retry_completes_the_same_order(
    tmp_path, crash_settings, scratch, customer, payments_service
):
    variables = {"input": {"lines": [line(5)], "idempotencyKey": "crash-1"}}
    async with (
        gateway_process(
            {**crash_settings, "test_crash_at": "after-order-written"},
            log_dir=tmp_path,
            name="doomed",
        ) as doomed,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        with pytest.raises(httpx.TransportError):
            await post(client, doomed.url, customer, PLACE_ORDER, variables)
        assert await doomed.wait_exit() == -9

    # What the crash left: the whole order, its payment not started, nothing at the provider.
    async with scratch.connect() as connection:
        order = (
            await connection.execute(select(orders.c.id, orders.c.number, orders.c.status))
        ).one()
        payment = (await connection.execute(select(payments.c.status, payments.c.intent_id))).one()
        events = list((await connection.execute(select(outbox.c.type))).scalars())
    assert order.status == "PENDING"
    assert (payment.status, payment.intent_id) == ("NOT_STARTED", None)
    assert events == ["ORDER_PLACED"]
    assert payments_service.intents(order.number) == []

    async with (
        gateway_process(crash_settings, log_dir=tmp_path, name="survivor") as survivor,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        retry = await post_as_a_client_retries(
            client, survivor.url, customer, PLACE_ORDER, variables
        )

    assert retry.status_code == 200, retry.text
    assert placed_id(retry.json()) == order.id
    assert retry.json()["data"]["placeOrder"]["payment"]["status"] == "PROCESSING"
    assert await scalar(scratch, select(func.count()).select_from(orders)) == 1
    assert len(payments_service.intents(order.number)) == 1


async def test_killed_after_the_provider_answered_a_retry_creates_no_second_intent(
    tmp_path, crash_settings, scratch, customer, payments_service
):
    variables = {"input": {"lines": [line(6, 3)], "idempotencyKey": "crash-2"}}

    retry = await _crash_then_retry(
        tmp_path, crash_settings, "after-intent-created", customer, PLACE_ORDER, variables
    )

    assert retry.status_code == 200, retry.text
    assert "errors" not in retry.json(), retry.text
    number = retry.json()["data"]["placeOrder"]["order"]["number"]
    (intent,) = payments_service.intents(number)  # the first try's, replayed to the retry
    async with scratch.connect() as connection:
        payment = (await connection.execute(select(payments.c.intent_id, payments.c.status))).one()
    assert payment.intent_id == intent["id"]
    assert await scalar(scratch, select(func.count()).select_from(orders)) == 1


async def test_killed_after_the_provider_refunded_a_retried_cancel_refunds_once(
    tmp_path, crash_settings, scratch, customer, payments_service
):
    async with (
        gateway_process(crash_settings, log_dir=tmp_path, name="placer") as placer,
        httpx.AsyncClient(timeout=30.0) as client,
    ):
        placed = await post(
            client, placer.url, customer, PLACE_ORDER, {"input": {"lines": [line(7)]}}
        )
    await asyncio.sleep(0.3)  # the provider captures it
    order_id = placed_id(placed.json())
    variables = {
        "input": {
            "orderId": base64.b64encode(f"Order:{order_id}".encode()).decode(),
            "idempotencyKey": "cancel-crash",
        }
    }

    retry = await _crash_then_retry(
        tmp_path, crash_settings, "after-cancel-requested", customer, CANCEL_ORDER, variables
    )

    assert retry.status_code == 200, retry.text
    assert retry.json()["data"]["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert retry.json()["data"]["cancelOrder"]["payment"]["status"] == "REFUND_PENDING"
    (intent,) = payments_service.intents(placed.json()["data"]["placeOrder"]["order"]["number"])
    assert intent["amount_refunded"] == intent["amount"]  # refunded once, not twice


# --- webhooks delivered three times, shuffled, with the provider's faults on ------------------


async def test_webhooks_three_times_shuffled_with_faults_leave_every_order_right(
    tmp_path, process_settings, scratch, customer, redis_url, redis_prefix
):
    from demo import payments as provider_service  # noqa: PLC0415
    from demo.faults import Faults  # noqa: PLC0415
    from demo.payments_delivery import DeliveryFaults  # noqa: PLC0415
    from demo.payments_ledger import Pace  # noqa: PLC0415
    from demo.serve import serving  # noqa: PLC0415
    from tests.upstreams import PaymentsService  # noqa: PLC0415

    provider_app = provider_service.create_app(
        provider_service.PaymentsConfig(
            pace=Pace(decline_rate=0.3, authorize_ms=30, capture_ms=400, refund_ms=30),
            delivery=DeliveryFaults(
                duplicates=2, out_of_order=True, delay_ms=100, failure_rate=0.3, retry_base_ms=50
            ),
            faults=Faults(latency_ms=20, error_rate=0.2),
        )
    )
    with serving(provider_app) as provider_url:
        provider = PaymentsService("payments", provider_url)
        settings = {**process_settings, "payments_url": provider_url}
        async with (
            gateway_process(settings, log_dir=tmp_path, name="a") as first,
            gateway_process(settings, log_dir=tmp_path, name="b") as second,
            httpx.AsyncClient(timeout=30.0) as client,
        ):
            provider.set_webhook(first.url + "/webhooks/payments", WEBHOOK_SECRET)
            numbers = await _place_and_cancel_some(client, (first, second), customer)
            provider.set_faults()  # the API heals (for our reads); deliveries stay faulty
            await _until_delivered(provider)
            await asyncio.sleep(1.0)  # the last publishes
            intents = {intent["reference"]: intent for intent in provider.intents()}
            provider_events = provider.events()
            deliveries = provider.deliveries()
        provider.close()

    assert deliveries["abandoned"] == 0
    assert deliveries["delivered"] == 3 * len(provider_events)
    async with scratch.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    orders.c.id,
                    orders.c.number,
                    orders.c.status,
                    orders.c.version,
                    payments.c.status.label("payment"),
                ).join(payments)
            )
        ).all()
        processed = list((await connection.execute(select(webhook_events.c.event_id))).scalars())
        published = (
            await connection.execute(select(outbox.c.event_id, outbox.c.order_id, outbox.c.version))
        ).all()
    assert sorted(processed) == sorted(event["id"] for event in provider_events)  # each once
    assert {row.number for row in rows} == set(numbers)
    for row in rows:
        intent = intents[row.number]
        assert (row.status, row.payment) == _expected(intent), (row, intent)
        versions = sorted(event.version for event in published if event.order_id == row.id)
        assert versions == list(range(1, row.version + 1))  # one event per transition, in order
    await _each_event_published_once(
        redis_url, redis_prefix, {event.event_id for event in published}
    )


def _expected(intent: dict[str, Any]) -> tuple[str, str]:
    if intent["amount_refunded"]:
        return "CANCELLED", "REFUNDED"
    return {
        "succeeded": ("PAID", "PAID"),
        "canceled": ("CANCELLED", "CANCELLED"),
        "requires_payment_method": ("PENDING", "FAILED"),
    }[intent["status"]]


async def _place_and_cancel_some(
    client: httpx.AsyncClient, gateways: tuple[GatewayProcess, ...], token: str
) -> list[str]:
    """Twelve orders, each retried with its key until the faulty provider lets it through; a
    third cancelled at once (voided before capture), a quarter after capture (refunded)."""

    async def one(n: int) -> str:
        variables = {"input": {"lines": [line(10 + n)], "idempotencyKey": f"order-{n}"}}
        for attempt in range(20):
            answer = await post(client, gateways[attempt % 2].url, token, PLACE_ORDER, variables)
            body = answer.json()
            if "errors" not in body:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"order {n} never went through: {body}")
        if n % 4 == 1:
            await asyncio.sleep(1.0)  # captured by now
        if n % 3 == 0 or n % 4 == 1:
            order = body["data"]["placeOrder"]["order"]["id"]
            cancel_variables = {"input": {"orderId": order, "idempotencyKey": f"cancel-{n}"}}
            for attempt in range(20):
                cancelled = (
                    await post(
                        client, gateways[attempt % 2].url, token, CANCEL_ORDER, cancel_variables
                    )
                ).json()
                if "errors" not in cancelled:
                    break
                await asyncio.sleep(0.05)
        return str(body["data"]["placeOrder"]["order"]["number"])

    return list(await asyncio.gather(*(one(n) for n in range(12))))


async def _until_delivered(provider: Any, *, seconds: float = 60.0) -> None:
    """Until the provider has nothing left to deliver and no intent is still moving."""
    quiet = 0
    for _ in range(int(seconds / 0.2)):
        moving = [
            i for i in provider.intents() if i["status"] in ("processing", "requires_capture")
        ]
        if provider.deliveries()["pending"] == 0 and not moving:
            quiet += 1
            if quiet >= 5:
                return
        else:
            quiet = 0
        await asyncio.sleep(0.2)
    raise AssertionError(f"deliveries still pending: {provider.deliveries()}")


async def _each_event_published_once(redis_url: str, prefix: str, event_ids: set[str]) -> None:
    import orjson  # noqa: PLC0415

    client = Redis.from_url(redis_url)
    try:
        entries: list[Any] = await client.xrange(f"{prefix}events:orders")  # type: ignore[assignment]
    finally:
        await client.aclose()
    published = [orjson.loads(fields[b"event"])["id"] for _, fields in entries]
    assert len(published) == len(set(published))
    assert set(published) == event_ids
