"""Specifications of the demo payment provider, over real HTTP on loopback: intents and their
life, idempotency keys, refunds, and webhooks delivered at least once, signed, with faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contract.webhook_signature import SIGNATURE_HEADER, parse_signature, verify
from demo import payments
from demo.payments_delivery import DeliveryFaults
from demo.payments_ledger import Pace
from demo.serve import serving

SECRET = "whsec-demo-tests"


@dataclass
class Sink:
    """A webhook receiver that records what it is sent and answers ``status``."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def types(self) -> list[str]:
        return [event["type"] for event, _ in self.received]


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    recorder = Sink()

    async def receive(request: Request) -> Response:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        verify(body, header, [SECRET], now=time.time(), tolerance_seconds=300)
        recorder.received.append((json.loads(body), header))
        return JSONResponse({}, status_code=recorder.status)

    with serving(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as url:
        recorder.url = url + "/hook"
        yield recorder


@pytest.fixture
def provider(sink) -> Iterator[httpx.Client]:
    sink.received.clear()
    sink.status = 200
    config = payments.PaymentsConfig(
        webhook_url=sink.url,
        webhook_secrets=(SECRET,),
        delivery=DeliveryFaults(retry_base_ms=20),
    )
    with serving(payments.create_app(config)) as url, httpx.Client(base_url=url) as client:
        yield client


def create(client: httpx.Client, key: str = "k1", **body: Any) -> httpx.Response:
    payload = {"amount": 1999, "currency": "eur", "metadata": {"order_id": "1"}, **body}
    return client.post("/v1/payment_intents", json=payload, headers={"Idempotency-Key": key})


def until(predicate: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def settled(client: httpx.Client) -> bool:
    return bool(client.get("/_deliveries").json()["pending"] == 0)


def test_an_intent_is_processing_then_authorized_then_captured(provider, sink):
    intent = create(provider).json()

    until(lambda: sink.types() == ["payment_intent.authorized", "payment_intent.succeeded"])

    assert intent["status"] == "processing"
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")
    assert provider.get(f"/v1/payment_intents/{intent['id']}").json()["status"] == "succeeded"
    delivered = sink.received[-1][0]["data"]["object"]
    assert (delivered["id"], delivered["amount"], delivered["metadata"]) == (
        intent["id"],
        1999,
        {"order_id": "1"},
    )


def test_the_same_key_and_request_answer_with_the_same_intent(provider):
    first = create(provider, "same")
    again = create(provider, "same")

    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(provider.get("/v1/payment_intents").json()["data"]) == 1


def test_the_same_key_with_another_request_is_422(provider):
    create(provider, "reused")

    refused = create(provider, "reused", amount=1)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "idempotency_key_reused"


def test_creating_an_intent_needs_an_idempotency_key(provider):
    response = provider.post("/v1/payment_intents", json={"amount": 1, "currency": "eur"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0},
        {"amount": 1.5},
        {"amount": True},
        {"currency": "euro"},
        {"capture_method": "x"},
    ],
)
def test_a_bad_intent_is_400(provider, body):
    assert create(provider, "bad", **body).status_code == 400


def test_an_api_key_is_required_when_configured():
    config = payments.PaymentsConfig(api_key="sk_test_demo")
    with serving(payments.create_app(config)) as url, httpx.Client(base_url=url) as client:
        anonymous = create(client)
        authorised = client.post(
            "/v1/payment_intents",
            json={"amount": 5, "currency": "eur"},
            headers={"Idempotency-Key": "a", "Authorization": "Bearer sk_test_demo"},
        )

    assert anonymous.status_code == 401
    assert authorised.status_code == 200


def test_a_manual_intent_waits_for_capture(provider, sink):
    intent = create(provider, capture_method="manual").json()
    until(lambda: sink.types() == ["payment_intent.authorized"])

    captured = provider.post(f"/v1/payment_intents/{intent['id']}/capture")

    assert captured.json()["status"] == "succeeded"
    until(lambda: sink.types()[-1:] == ["payment_intent.succeeded"])


def test_an_intent_not_captured_can_be_voided_a_captured_one_only_refunded(provider, sink):
    voided = create(provider, "v", capture_method="manual").json()
    captured = create(provider, "c").json()
    until(lambda: "payment_intent.succeeded" in sink.types())

    cancel = provider.post(f"/v1/payment_intents/{voided['id']}/cancel")
    too_late = provider.post(f"/v1/payment_intents/{captured['id']}/cancel")
    refund = provider.post(
        "/v1/refunds", json={"payment_intent": captured["id"]}, headers={"Idempotency-Key": "r"}
    )
    again = provider.post(
        "/v1/refunds", json={"payment_intent": captured["id"]}, headers={"Idempotency-Key": "r2"}
    )

    assert cancel.json()["status"] == "canceled"
    assert too_late.status_code == 400
    assert too_late.json()["error"]["code"] == "payment_intent_unexpected_state"
    assert (refund.json()["status"], refund.json()["amount"]) == ("pending", 1999)
    assert again.status_code == 400  # nothing left to refund
    until(lambda: "refund.succeeded" in sink.types())


def test_declined_payments_fail_with_a_reason(provider, sink):
    provider.put("/_pace", json={"decline_rate": 1.0})

    create(provider)

    until(lambda: sink.types() == ["payment_intent.payment_failed"])
    failed = sink.received[0][0]["data"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "card_declined"


def test_every_event_is_listed_in_order(provider, sink):
    create(provider)
    until(lambda: len(sink.received) == 2)

    events = provider.get("/v1/events").json()["data"]

    assert [event["type"] for event in events] == sink.types()


def test_duplicated_deliveries_are_signed_each_anew(provider, sink):
    provider.put("/_delivery", json={"duplicates": 2})

    create(provider)
    until(lambda: len(sink.received) == 6)

    ids = [event["id"] for event, _ in sink.received]
    assert len(set(ids)) == 2
    assert all(ids.count(i) == 3 for i in set(ids))
    headers = [header for _, header in sink.received]
    assert len(set(headers)) == 6  # no two attempts share a signature
    for event_id in set(ids):
        stamps = [parse_signature(h).timestamp for (e, h) in sink.received if e["id"] == event_id]
        assert len(set(stamps)) == len(stamps)


def test_a_failing_receiver_gets_the_event_again_until_it_answers(provider, sink):
    sink.status = 500
    create(provider)
    until(lambda: len(sink.received) >= 4)

    sink.status = 200
    until(lambda: provider.get("/_deliveries").json()["delivered"] == 2, 10)

    stats = provider.get("/_deliveries").json()
    assert stats["delivered"] == 2
    assert stats["failedAttempts"] >= 2
    assert set(sink.types()) == {"payment_intent.authorized", "payment_intent.succeeded"}


def test_lost_acknowledgements_make_duplicates_the_receiver_must_absorb(provider, sink):
    provider.put("/_delivery", json={"failure_rate": 0.9, "retry_base_ms": 10})

    create(provider)
    until(lambda: provider.get("/_deliveries").json()["delivered"] == 2, 10)

    assert len(sink.received) > 2


def test_out_of_order_delivery_can_bring_the_capture_before_the_authorization(sink):
    config = payments.PaymentsConfig(
        webhook_url=sink.url,
        webhook_secrets=(SECRET,),
        pace=Pace(authorize_ms=1, capture_ms=1),
        delivery=DeliveryFaults(out_of_order=True, delay_ms=200),
    )
    sink.received.clear()
    orders_seen = set()
    with serving(payments.create_app(config)) as url, httpx.Client(base_url=url) as client:
        for n in range(12):
            create(client, f"k{n}")
        until(lambda: settled(client) and len(sink.received) == 24, 10)
        by_intent: dict[str, list[str]] = {}
        for event, _ in sink.received:
            by_intent.setdefault(event["data"]["object"]["id"], []).append(event["type"])
        orders_seen = {tuple(types) for types in by_intent.values()}

    assert ("payment_intent.succeeded", "payment_intent.authorized") in orders_seen


def test_an_unreachable_receiver_is_given_up_after_max_attempts():
    config = payments.PaymentsConfig(
        webhook_url="http://127.0.0.1:9/nowhere",
        webhook_secrets=(SECRET,),
        delivery=DeliveryFaults(max_attempts=3, retry_base_ms=5),
    )
    with serving(payments.create_app(config)) as url, httpx.Client(base_url=url) as client:
        create(client)
        until(lambda: client.get("/_deliveries").json()["abandoned"] == 2, 10)
        stats = client.get("/_deliveries").json()

    assert stats["attempts"] == 6
    assert stats["delivered"] == 0


def test_the_webhook_can_be_pointed_elsewhere_and_signed_with_two_secrets(provider, sink):
    provider.put("/_webhook", json={"url": sink.url, "secrets": ["other", SECRET]})

    create(provider)
    until(lambda: len(sink.received) == 2)

    assert len(parse_signature(sink.received[0][1]).macs) == 2
    assert provider.get("/_webhook").json() == {"url": sink.url, "secrets": 2}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_delivery", {"duplicates": 11}),
        ("/_delivery", {"unknown": 1}),
        ("/_delivery", {"out_of_order": 1}),
        ("/_pace", {"decline_rate": 2}),
        ("/_pace", {"nope": 1}),
        ("/_webhook", {"url": 5}),
    ],
)
def test_bad_controls_are_400_and_change_nothing(provider, path, body):
    before = provider.get(path).json()

    response = provider.put(path, json=body)

    assert response.status_code == 400
    assert provider.get(path).json() == before


def test_api_faults_apply_to_the_api_not_to_the_controls(provider):
    provider.put("/_faults", json={"error_rate": 1.0})

    assert create(provider).status_code == 503
    assert provider.get("/_deliveries").status_code == 200
    assert provider.get("/healthz").json() == {"status": "ok"}


def test_the_openapi_document_names_every_route(provider):
    paths = provider.get("/openapi.json").json()["paths"]

    assert {
        "/v1/payment_intents",
        "/v1/payment_intents/{id}",
        "/v1/payment_intents/{id}/capture",
        "/v1/payment_intents/{id}/cancel",
        "/v1/refunds",
        "/v1/events",
        "/_delivery",
        "/_pace",
        "/_webhook",
        "/_deliveries",
    } <= set(paths)
