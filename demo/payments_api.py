"""The demo payment provider's API handlers: each validates its request and asks the ledger.

A handler answers ``(status, body)`` or raises ``LedgerError``; authentication, bodies and
idempotency are the service's (``demo.payments``), around every handler alike.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from demo.payments_ledger import Ledger, LedgerError

__all__ = ["PaymentsApi"]

_CURRENCY = re.compile(r"[a-zA-Z]{3}")
_ID = re.compile(r"[A-Za-z0-9_]{1,64}")

Answer = tuple[int, dict[str, Any]]


class PaymentsApi:
    def __init__(self, ledger: Ledger, events: list[dict[str, Any]]) -> None:
        self.ledger = ledger
        self.events = events

    async def create_intent(self, request: Request, body: dict[str, Any]) -> Answer:
        amount, currency = body.get("amount"), body.get("currency")
        capture = body.get("capture_method", "automatic")
        reference = body.get("reference")
        metadata = body.get("metadata", {})
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**12:
            raise LedgerError(
                400, "parameter_invalid", "amount must be a positive integer of minor units"
            )
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise LedgerError(400, "parameter_invalid", "currency must be an ISO 4217 code")
        if capture not in ("automatic", "manual"):
            raise LedgerError(400, "parameter_invalid", "capture_method is automatic or manual")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 100):
            raise LedgerError(400, "parameter_invalid", "reference must be a short string")
        intent = self.ledger.create_intent(
            amount=amount,
            currency=currency.lower(),
            capture_method=capture,
            reference=reference,
            metadata=_metadata(metadata),
        )
        return 200, intent.as_json()

    async def get_intent(self, request: Request, _body: dict[str, Any]) -> Answer:
        return 200, self.ledger.intent(_path_id(request)).as_json()

    async def list_intents(self, request: Request, _body: dict[str, Any]) -> Answer:
        reference = request.query_params.get("reference")
        found = [
            intent.as_json()
            for intent in self.ledger.intents.values()
            if reference is None or intent.reference == reference
        ]
        return 200, {"object": "list", "data": found[:100]}

    async def capture(self, request: Request, _body: dict[str, Any]) -> Answer:
        return 200, self.ledger.capture(_path_id(request)).as_json()

    async def cancel(self, request: Request, _body: dict[str, Any]) -> Answer:
        return 200, self.ledger.cancel(_path_id(request)).as_json()

    async def refund(self, request: Request, body: dict[str, Any]) -> Answer:
        intent_id, amount = body.get("payment_intent"), body.get("amount")
        if not isinstance(intent_id, str) or not _ID.fullmatch(intent_id):
            raise LedgerError(400, "parameter_invalid", "payment_intent must be an intent id")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
            raise LedgerError(400, "parameter_invalid", "amount must be an integer")
        refund = self.ledger.refund(intent_id, amount, _metadata(body.get("metadata", {})))
        return 200, refund.as_json()

    async def list_events(self, request: Request, _body: dict[str, Any]) -> Answer:
        after = request.query_params.get("after")
        start = next((i + 1 for i, event in enumerate(self.events) if event["id"] == after), 0)
        return 200, {"object": "list", "data": self.events[start : start + 100]}


def _path_id(request: Request) -> str:
    value = str(request.path_params["id"])
    if not _ID.fullmatch(value):
        raise LedgerError(404, "resource_missing", "no such object")
    return value


def _metadata(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or len(raw) > 20:
        raise LedgerError(400, "parameter_invalid", "metadata is an object of at most 20 keys")
    if not all(isinstance(k, str) and isinstance(v, str) and len(v) <= 500 for k, v in raw.items()):
        raise LedgerError(400, "parameter_invalid", "metadata keys and values are strings")
    return dict(raw)
