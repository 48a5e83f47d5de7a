"""The demo payment provider: intents, captures, refunds and signed webhooks over REST.

A stand-in for a payment provider the gateway does not own, modelled on how the major ones
behave. Its contract (docs/payments.md has it in full; ``/openapi.json`` describes it):

- ``POST /v1/payment_intents`` ``{"amount": 1999, "currency": "eur", "capture_method":
  "automatic" | "manual", "reference": "...", "metadata": {"order_id": "42"}}`` creates a
  confirmed intent (``processing``); its outcome follows by webhook (``demo.payments_ledger``).
- ``GET /v1/payment_intents/{id}``, ``GET /v1/payment_intents?reference=``,
  ``POST /v1/payment_intents/{id}/capture``, ``POST /v1/payment_intents/{id}/cancel``.
- ``POST /v1/refunds`` ``{"payment_intent": "pi_…", "amount"?: 1999, "metadata"?: {…}}``.
- ``GET /v1/events?after=&limit=``: every event emitted, oldest first.
- Every POST may carry ``Idempotency-Key`` (creating an intent or a refund must): the same key
  with the same request is answered with the first answer (``Idempotent-Replayed: true``), with
  a different request refused (422 ``idempotency_key_reused``). Keys belong to the API key.
- With ``--api-key`` set, every ``/v1`` call needs ``Authorization: Bearer <key>`` (401).
- Errors are ``{"error": {"type": "...", "code": "...", "message": "..."}}``.

Webhooks (``demo.payments_delivery``) go to ``--webhook-url``, signed with ``--webhook-secret``
(repeat it while rotating), or to what ``PUT /_webhook`` sets. Besides the shared faults of every
demo service (``/_faults``: slow, failing, hanging API calls), ``PUT /_delivery`` injects
duplicated, out-of-order, delayed and lost deliveries and ``PUT /_pace`` sets how fast intents
move and how often they are declined. ``GET /_deliveries`` counts deliveries.

Run it with ``python -m demo.payments --port 8103``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.faults import FaultInjector, Faults, operational_routes, parse_service_arguments
from demo.payments_api import PaymentsApi
from demo.payments_controls import control_routes
from demo.payments_delivery import DeliveryFaults, Endpoint, Webhooks
from demo.payments_ledger import Ledger, LedgerError, Pace
from demo.payments_openapi import payments_document

__all__ = ["PaymentsConfig", "create_app", "main"]

MAX_BODY_BYTES: Final = 64 * 1024
_CURRENCY = re.compile(r"[a-zA-Z]{3}")
_ID = re.compile(r"[A-Za-z0-9_]{1,64}")

Handler = Callable[[Request, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class PaymentsConfig:
    api_key: str | None = None
    webhook_url: str | None = None
    webhook_secrets: tuple[str, ...] = ()
    pace: Pace = field(default_factory=Pace)
    delivery: DeliveryFaults = field(default_factory=DeliveryFaults)
    faults: Faults = field(default_factory=Faults)


class _Provider:
    def __init__(self, config: PaymentsConfig) -> None:
        self.api_key = config.api_key
        self.events: list[dict[str, Any]] = []
        self.webhooks = Webhooks(
            Endpoint(config.webhook_url, config.webhook_secrets), config.delivery
        )
        self.ledger = Ledger(self._emit, pace=config.pace)
        #: (API key, idempotency key) -> (fingerprint, status, answer)
        self._answers: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}

    def _emit(self, event_type: str, subject: dict[str, Any]) -> None:
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": subject["created"],
            "data": {"object": subject},
        }
        self.events.append(event)
        self.webhooks.enqueue(event["id"], json.dumps(event).encode())

    def _caller(self, request: Request) -> str:
        """The API key presented, or ``LedgerError`` (401) when it is not the right one."""
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if self.api_key is not None and presented != self.api_key:
            raise LedgerError(401, "invalid_api_key", "bad API key", "authentication_error")
        return presented

    def endpoint(self, handler: Handler, *, key_required: bool = False) -> Callable[..., Any]:
        """An API route: authentication, the body, and idempotency around ``handler``."""

        async def serve(request: Request) -> Response:
            try:
                caller = self._caller(request)
                body = await _body(request) if request.method == "POST" else {}
                key = request.headers.get("idempotency-key")
                if key_required and key is None:
                    raise LedgerError(400, "idempotency_key_required", "send an Idempotency-Key")
            except LedgerError as error:
                return JSONResponse(error.as_json(), status_code=error.status)
            if request.method != "POST" or key is None:
                return JSONResponse(*await _answer(handler, request, body))
            return await self._idempotent(handler, request, body, (caller, key))

        return serve

    async def _idempotent(
        self, handler: Handler, request: Request, body: dict[str, Any], key: tuple[str, str]
    ) -> Response:
        fingerprint = hashlib.sha256(
            json.dumps([request.method, request.url.path, body], sort_keys=True).encode()
        ).hexdigest()
        stored = self._answers.get(key)
        if stored is not None:
            if stored[0] != fingerprint:
                error = LedgerError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with another request",
                    "idempotency_error",
                )
                return JSONResponse(error.as_json(), status_code=422)
            return JSONResponse(
                stored[2], status_code=stored[1], headers={"Idempotent-Replayed": "true"}
            )
        answer, status = await _answer(handler, request, body)
        if status < 500:  # what the request got is what every retry of it gets
            self._answers[key] = (fingerprint, status, answer)
        return JSONResponse(answer, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise LedgerError(413, "body_too_large", "the body is too large")
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise LedgerError(400, "invalid_json", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise LedgerError(400, "invalid_json", "the body must be an object")
    return body


async def _answer(
    handler: Handler, request: Request, body: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """The handler's answer and status, a refusal included."""
    try:
        status, answer = await handler(request, body)
    except LedgerError as error:
        return error.as_json(), error.status
    return answer, status


def create_app(config: PaymentsConfig | None = None) -> Starlette:
    config = PaymentsConfig() if config is None else config
    provider = _Provider(config)
    injector = FaultInjector(config.faults)
    api = provider.endpoint
    handlers = PaymentsApi(provider.ledger, provider.events)
    routes = [
        injector.route(
            "/v1/payment_intents",
            api(handlers.create_intent, key_required=True),
            methods=["POST"],
        ),
        injector.route("/v1/payment_intents", api(handlers.list_intents)),
        injector.route("/v1/payment_intents/{id}", api(handlers.get_intent)),
        injector.route("/v1/payment_intents/{id}/capture", api(handlers.capture), methods=["POST"]),
        injector.route("/v1/payment_intents/{id}/cancel", api(handlers.cancel), methods=["POST"]),
        injector.route("/v1/refunds", api(handlers.refund, key_required=True), methods=["POST"]),
        injector.route("/v1/events", api(handlers.list_events)),
        *operational_routes(injector, payments_document()),
        *control_routes(provider.webhooks, provider.ledger),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        delivering = asyncio.create_task(provider.webhooks.run())
        try:
            yield
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.faults = injector
    app.state.provider = provider
    return app


# --- command line ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.payments", description=__doc__)
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--api-key", help="require this bearer token on /v1 calls")
    parser.add_argument("--webhook-url", help="where to deliver events")
    parser.add_argument(
        "--webhook-secret", action="append", default=[], help="sign with it (repeat: rotation)"
    )
    parser.add_argument("--decline-rate", type=float, default=0.0)
    parser.add_argument("--duplicates", type=int, default=0, help="extra copies of each event")
    parser.add_argument("--out-of-order", action="store_true", help="shuffle deliveries")
    parser.add_argument("--delivery-delay-ms", type=int, default=0)
    parser.add_argument("--delivery-failure-rate", type=float, default=0.0)
    arguments, faults = parse_service_arguments(parser, argv)
    config = PaymentsConfig(
        api_key=arguments.api_key,
        webhook_url=arguments.webhook_url,
        webhook_secrets=tuple(arguments.webhook_secret),
        pace=Pace(decline_rate=arguments.decline_rate),
        delivery=DeliveryFaults(
            duplicates=arguments.duplicates,
            out_of_order=arguments.out_of_order,
            delay_ms=arguments.delivery_delay_ms,
            failure_rate=arguments.delivery_failure_rate,
        ),
        faults=faults,
    )
    uvicorn.run(create_app(config), host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
