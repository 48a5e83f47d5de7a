"""The payment provider's API, as the gateway uses it: intents, voids, refunds and its events.

Modelled on how the major providers work (``demo/payments.py`` is a stand-in; docs/payments.md
has the contract). Every call that creates or changes something carries an idempotency key the
gateway derives from the payment's own row, so a retried call (after a timeout, a crash, a
takeover by another replica) is answered with what the first one did, never done twice.
Amounts cross the wire in minor units (cents), as integers: money is never a float.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from contract.errors import UpstreamError
from contract.text import first_unsafe_character
from datasources.order_states import ProviderFact
from datasources.resilience import Deadline
from datasources.upstream import Upstream, UpstreamResponse

logger = logging.getLogger("manifold.payments")

#: ISO 4217 currencies whose minor unit is not the cent (the rest have two decimals).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}

_ORDER_ID = re.compile(r"[1-9][0-9]{0,17}")

#: Provider event types and what each says.
EVENT_FACTS = {
    "payment_intent.authorized": ProviderFact.AUTHORIZED,
    "payment_intent.succeeded": ProviderFact.SUCCEEDED,
    "payment_intent.payment_failed": ProviderFact.FAILED,
    "payment_intent.canceled": ProviderFact.CANCELED,
    "refund.succeeded": ProviderFact.REFUNDED,
}


def to_minor_units(amount: Decimal, currency: str) -> int:
    exponent = _EXPONENTS.get(currency.upper(), 2)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency")
    return int(scaled)


def from_minor_units(amount: int, currency: str) -> Decimal:
    exponent = _EXPONENTS.get(currency.upper(), 2)
    return Decimal(amount).scaleb(-exponent)


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    #: The provider's own word: processing, requires_capture, succeeded, canceled, …
    status: str
    client_secret: str | None


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: str


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One webhook event, reduced to what the gateway acts on."""

    id: str
    type: str
    #: None for event types the gateway does not act on (acknowledged, recorded, ignored).
    fact: ProviderFact | None
    intent_id: str | None
    order_id: int | None
    amount_minor: int | None
    currency: str | None
    #: Why a payment failed, in the provider's words (for the customer's support).
    failure_reason: str | None = None


class MalformedEventError(ValueError):
    """A webhook body that is not an event the provider would send."""


def _string(value: Any, name: str, *, limit: int = 255) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise MalformedEventError(f"{name} must be a non-empty string")
    return _text(value, name, identifier=True)


def _text(value: str, name: str, *, identifier: bool = False) -> str:
    """``value`` if the text rule lets it be stored or looked up (PostgreSQL refuses NUL):
    a signed body is still the provider's data, and must not fail the transaction."""
    character = first_unsafe_character(value, identifier=identifier)
    if character is not None:
        raise MalformedEventError(f"{name} holds {character}")
    return value


def _optional_text(value: Any, name: str, *, identifier: bool = False) -> Any:
    return _text(value, name, identifier=identifier) if isinstance(value, str) else value


def parse_event(raw: bytes) -> ProviderEvent:
    """An event from a (verified) webhook body; ``MalformedEventError`` for anything else."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedEventError("the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        raise MalformedEventError("an event is an object with data")
    event_id = _string(data.get("id"), "id")
    event_type = _string(data.get("type"), "type", limit=100)
    subject = data["data"].get("object")
    if not isinstance(subject, dict):
        raise MalformedEventError("data.object must be an object")
    kind = subject.get("object")
    intent = subject.get("payment_intent") if kind == "refund" else subject.get("id")
    intent = _optional_text(intent, "the payment intent id", identifier=True)
    metadata = subject.get("metadata")
    order = metadata.get("order_id") if isinstance(metadata, dict) else None
    amount = subject.get("amount")
    currency = _optional_text(subject.get("currency"), "currency", identifier=True)
    error = subject.get("last_payment_error")
    reason = error.get("message") if isinstance(error, dict) else None
    reason = _optional_text(reason, "last_payment_error.message")
    return ProviderEvent(
        id=event_id,
        type=event_type,
        fact=EVENT_FACTS.get(event_type),
        intent_id=intent if isinstance(intent, str) and 0 < len(intent) <= 64 else None,
        order_id=int(order) if isinstance(order, str) and _ORDER_ID.fullmatch(order) else None,
        amount_minor=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency.upper() if isinstance(currency, str) and len(currency) == 3 else None,
        failure_reason=reason[:200] if isinstance(reason, str) else None,
    )


def _refusal_code(response: UpstreamResponse) -> str | None:
    error = response.body.get("error") if isinstance(response.body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


class PaymentProvider:
    """One per app; every call within the request's deadline, through the upstream's breaker."""

    def __init__(self, upstream: Upstream, *, api_key: str | None) -> None:
        self.upstream = upstream
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def require_configured(self) -> None:
        """``UpstreamError`` unless a provider is configured (GATEWAY_PAYMENTS_URL): asked
        before an order is written, so none is written that could never be paid."""
        if not self.upstream.configured:
            raise UpstreamError("the payments service is not configured")

    async def _post(
        self,
        operation: str,
        path: str,
        body: dict[str, Any],
        *,
        key: str,
        deadline: Deadline,
        request_id: str,
        expected_refusal: str | None = None,
    ) -> Any:
        """The provider's answer; None for the one refusal the caller expects (by its code),
        ``UpstreamError`` for any other: our request was wrong (or our API key), a gateway bug
        to log and an outage to the client."""
        response = await self.upstream.post_json(
            path,
            body,
            idempotency_key=key,
            deadline=deadline,
            operation=operation,
            request_id=request_id,
            headers=self._headers,
        )
        if response.status < 400:
            return response.body
        code = _refusal_code(response)
        if expected_refusal is not None and code == expected_refusal:
            return None
        logger.error(
            "the payments service refused %s with HTTP %d (%s)",
            operation,
            response.status,
            code or "no code",
        )
        raise UpstreamError("the payments service is unavailable")

    async def create_intent(
        self,
        *,
        key: str,
        amount: Decimal,
        currency: str,
        order_id: int,
        reference: str,
        deadline: Deadline,
        request_id: str = "",
    ) -> Intent:
        """The intent for an order's payment; the same ``key`` answers with the same intent."""
        body = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "capture_method": "automatic",
            "reference": reference,
            "metadata": {"order_id": str(order_id)},
        }
        answer = await self._post(
            "POST /v1/payment_intents",
            "/v1/payment_intents",
            body,
            key=key,
            deadline=deadline,
            request_id=request_id,
        )
        return self._intent(answer)

    async def cancel_intent(
        self, *, intent_id: str, key: str, deadline: Deadline, request_id: str = ""
    ) -> Intent | None:
        """Void an intent not yet captured; None when it was captured already (refund it)."""
        answer = await self._post(
            "POST /v1/payment_intents/{id}/cancel",
            f"/v1/payment_intents/{intent_id}/cancel",
            {},
            key=key,
            deadline=deadline,
            request_id=request_id,
            expected_refusal="payment_intent_unexpected_state",
        )
        return None if answer is None else self._intent(answer)

    async def refund(
        self,
        *,
        intent_id: str,
        amount: Decimal,
        currency: str,
        order_id: int,
        key: str,
        deadline: Deadline,
        reason: str | None = None,
        request_id: str = "",
    ) -> Refund:
        """Give back ``amount``; the customer's ``reason``, if any, goes with it as metadata so
        the provider's dashboard shows why."""
        metadata = {"order_id": str(order_id)}
        if reason is not None:
            metadata["reason"] = reason
        body = {
            "payment_intent": intent_id,
            "amount": to_minor_units(amount, currency),
            "metadata": metadata,
        }
        answer = await self._post(
            "POST /v1/refunds",
            "/v1/refunds",
            body,
            key=key,
            deadline=deadline,
            request_id=request_id,
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise self._malformed()
        return Refund(id=answer["id"], status=str(answer.get("status", "pending")))

    def _intent(self, body: Any) -> Intent:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise self._malformed()
        secret = body.get("client_secret")
        return Intent(
            id=body["id"],
            status=str(body.get("status", "processing")),
            client_secret=secret if isinstance(secret, str) else None,
        )

    @staticmethod
    def _malformed() -> UpstreamError:
        logger.warning("the payments service sent an answer that is not a payment object")
        return UpstreamError("the payments service is unavailable")
