"""The demo payment provider's books: intents, refunds, their life, and the events they emit.

Modelled on how the major providers behave (Stripe's PaymentIntents is the model):

* an intent is created confirmed (``processing``); moments later it is **authorized**
  (``payment_intent.authorized``) or **declined** (``payment_intent.payment_failed``, status
  ``requires_payment_method``); with automatic capture it is then **captured**
  (``payment_intent.succeeded``), with manual capture it waits in ``requires_capture`` for
  ``capture``;
* an intent not yet captured can be **canceled** (``payment_intent.canceled``); a captured one
  cannot (``payment_intent_unexpected_state``) and is **refunded** instead: the refund is
  ``pending``, then ``refund.succeeded``.

Amounts are integers in minor units. Every change is scheduled on the running event loop, so
the service answers at once and the outcome arrives later, by webhook, as it does for real.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Intent", "Ledger", "LedgerError", "Pace", "Refund"]

Emit = Callable[[str, dict[str, Any]], None]


class LedgerError(Exception):
    """A request the provider refuses, with its HTTP status and error code."""

    def __init__(
        self, status: int, code: str, message: str, kind: str = "invalid_request_error"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind

    def as_json(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "code": self.code, "message": self.message}}


@dataclass(frozen=True, slots=True)
class Pace:
    """How an intent moves and how often payments are declined."""

    decline_rate: float = 0.0
    authorize_ms: int = 10
    capture_ms: int = 10
    refund_ms: int = 10


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(slots=True)
class Intent:
    id: str
    amount: int
    currency: str
    capture_method: str
    reference: str | None
    metadata: dict[str, str]
    status: str = "processing"
    client_secret: str = ""
    amount_refunded: int = 0
    last_payment_error: dict[str, str] | None = None
    created: int = field(default_factory=lambda: int(time.time()))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_refunded": self.amount_refunded,
            "currency": self.currency,
            "capture_method": self.capture_method,
            "status": self.status,
            "client_secret": self.client_secret,
            "reference": self.reference,
            "metadata": dict(self.metadata),
            "last_payment_error": self.last_payment_error,
            "created": self.created,
        }


@dataclass(slots=True)
class Refund:
    id: str
    payment_intent: str
    amount: int
    currency: str
    metadata: dict[str, str]
    status: str = "pending"
    created: int = field(default_factory=lambda: int(time.time()))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "payment_intent": self.payment_intent,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "metadata": dict(self.metadata),
            "created": self.created,
        }


class Ledger:
    def __init__(self, emit: Emit, *, pace: Pace | None = None, seed: int = 0) -> None:
        self._emit = emit
        self.pace = pace or Pace()
        self._random = random.Random(seed)  # noqa: S311 (declines are a simulation)
        self.intents: dict[str, Intent] = {}
        self.refunds: dict[str, Refund] = {}

    def _later(self, milliseconds: int, step: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(milliseconds / 1000, step)

    def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        capture_method: str,
        reference: str | None,
        metadata: dict[str, str],
    ) -> Intent:
        intent = Intent(
            id=_id("pi"),
            amount=amount,
            currency=currency,
            capture_method=capture_method,
            reference=reference,
            metadata=metadata,
        )
        intent.client_secret = f"{intent.id}_secret_{secrets.token_hex(12)}"
        self.intents[intent.id] = intent
        declined = self._random.random() < self.pace.decline_rate
        self._later(self.pace.authorize_ms, lambda: self._authorize(intent, declined=declined))
        return intent

    def _authorize(self, intent: Intent, *, declined: bool) -> None:
        if intent.status != "processing":
            return  # canceled meanwhile
        if declined:
            intent.status = "requires_payment_method"
            intent.last_payment_error = {
                "code": "card_declined",
                "message": "Your card was declined.",
            }
            self._emit("payment_intent.payment_failed", intent.as_json())
            return
        intent.status = "requires_capture"
        self._emit("payment_intent.authorized", intent.as_json())
        if intent.capture_method == "automatic":
            self._later(self.pace.capture_ms, lambda: self._capture(intent))

    def _capture(self, intent: Intent) -> None:
        if intent.status != "requires_capture":
            return
        intent.status = "succeeded"
        self._emit("payment_intent.succeeded", intent.as_json())

    def intent(self, intent_id: str) -> Intent:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise LedgerError(404, "resource_missing", f"no payment intent {intent_id!r}")
        return intent

    def capture(self, intent_id: str) -> Intent:
        intent = self.intent(intent_id)
        if intent.status == "succeeded":
            return intent
        if intent.status != "requires_capture":
            raise LedgerError(
                400, "payment_intent_unexpected_state", f"cannot capture a {intent.status} intent"
            )
        self._capture(intent)
        return intent

    def cancel(self, intent_id: str) -> Intent:
        intent = self.intent(intent_id)
        if intent.status == "canceled":
            return intent
        if intent.status == "succeeded":
            raise LedgerError(
                400,
                "payment_intent_unexpected_state",
                "a captured payment cannot be canceled: refund it",
            )
        intent.status = "canceled"
        self._emit("payment_intent.canceled", intent.as_json())
        return intent

    def refund(self, intent_id: str, amount: int | None, metadata: dict[str, str]) -> Refund:
        intent = self.intent(intent_id)
        if intent.status != "succeeded":
            raise LedgerError(
                400, "payment_intent_unexpected_state", "only a captured payment can be refunded"
            )
        left = intent.amount - intent.amount_refunded
        amount = left if amount is None else amount
        if not 0 < amount <= left:
            raise LedgerError(400, "amount_too_large", f"at most {left} can be refunded")
        intent.amount_refunded += amount
        refund = Refund(
            id=_id("re"),
            payment_intent=intent.id,
            amount=amount,
            currency=intent.currency,
            metadata=metadata,
        )
        self.refunds[refund.id] = refund
        self._later(self.pace.refund_ms, lambda: self._settle(refund))
        return refund

    def _settle(self, refund: Refund) -> None:
        refund.status = "succeeded"
        self._emit("refund.succeeded", refund.as_json())
