"""``POST /webhooks/payments``: the payment provider's signed events.

In order, cheapest refusal first, and nothing written until the last two steps:

1. the body is read within a size cap (413) as raw bytes: the signature covers those bytes;
2. the ``Payment-Signature`` header is verified (``contract.webhook_signature``): HMAC-SHA256
   of the timestamp and the body, under the current or the previous secret (rotation), with
   the timestamp within the tolerance window; anything else is 401;
3. the body is parsed as an event (400 when it is not one);
4. the signature is recorded, so the same signed request played again is refused (401);
5. the event is applied once by its id (``resolvers.payments``): a duplicate is 200 and
   changes nothing.

Refusals are logged with their reason and never with the body. A database outage is 503 with
``Retry-After``: the provider delivers at least once, so it will try again.
"""

from __future__ import annotations

import hashlib
import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from contract.errors import ErrorCode, UpstreamError
from contract.webhook_signature import SIGNATURE_HEADER, SignatureError, verify
from datasources.payment_provider import MalformedEventError, ProviderEvent, parse_event
from datasources.payments import accept_signature
from gateway.http.media_types import JSON, media_type
from gateway.http.protocol import read_body
from gateway.operations.refusal import Refused
from gateway.runtime.resources import Resources
from resolvers.payments import EventOutcome, apply_payment_event

logger = logging.getLogger("manifold.webhooks")

#: A provider's event is a few kilobytes; anything near this is not one.
MAX_BODY_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = 5


class _Refused(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers


def _secrets(resources: Resources) -> list[str]:
    settings = resources.settings
    held = (settings.payments_webhook_secret, settings.payments_webhook_previous_secret)
    secrets = [secret.get_secret_value() for secret in held if secret is not None]
    if not secrets:
        raise _Refused(401, ErrorCode.UNAUTHENTICATED, "payment webhooks are not configured")
    return secrets


async def _verified_event(request: Request, resources: Resources) -> tuple[ProviderEvent, str]:
    """Steps 1 to 3: the event, and the signature header that vouched for it."""
    secrets = _secrets(resources)
    if media_type(request.headers.get("content-type")) != JSON:
        raise _Refused(415, ErrorCode.BAD_USER_INPUT, "send application/json")
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except Refused as refused:
        raise _Refused(refused.status, ErrorCode.BAD_USER_INPUT, str(refused)) from None
    header = request.headers.get(SIGNATURE_HEADER)
    tolerance = resources.settings.payments_webhook_tolerance_seconds
    try:
        verify(body, header, secrets, now=time.time(), tolerance_seconds=tolerance)
    except SignatureError as error:
        raise _Refused(401, ErrorCode.UNAUTHENTICATED, str(error)) from None
    try:
        event = parse_event(body)
    except MalformedEventError as error:
        raise _Refused(400, ErrorCode.BAD_USER_INPUT, f"not a payment event: {error}") from None
    assert header is not None  # verified
    return event, header


async def _apply(resources: Resources, event: ProviderEvent, header: str) -> EventOutcome:
    """Steps 4 and 5."""
    writes = resources.writes
    tolerance = resources.settings.payments_webhook_tolerance_seconds
    digest = hashlib.sha256(header.encode()).hexdigest()
    try:
        # Kept for as long as its timestamp can be accepted, either side of now.
        if not await accept_signature(writes.database, digest, keep_seconds=2 * tolerance + 1):
            raise _Refused(401, ErrorCode.UNAUTHENTICATED, "this signature was used already")
        return await apply_payment_event(
            database=writes.database, event=event, events_written=writes.events_written
        )
    except UpstreamError as error:
        raise _Refused(
            503, error.code, error.message, **{"Retry-After": str(RETRY_AFTER_SECONDS)}
        ) from None


def _answer(refused: _Refused) -> Response:
    return JSONResponse(
        {"error": {"code": refused.code.value, "message": str(refused)}},
        status_code=refused.status,
        headers=refused.headers,
    )


async def payments_webhook(request: Request) -> Response:
    """Every answer is the webhook's JSON shape, a wrong method and a bug included: a
    provider's delivery log shows the code, never a framework's plain-text page."""
    if request.method != "POST":
        return _answer(
            _Refused(405, ErrorCode.BAD_USER_INPUT, "send events with POST", Allow="POST")
        )
    resources: Resources = request.app.state.resources
    try:
        event, header = await _verified_event(request, resources)
        outcome = await _apply(resources, event, header)
    except _Refused as refused:
        logger.warning("refused a payment webhook (%d): %s", refused.status, refused)
        return _answer(refused)
    except Exception:
        # Never the body, which may hold what the provider knows of the customer.
        logger.exception("a payment webhook failed")
        return _answer(_Refused(500, ErrorCode.INTERNAL_SERVER_ERROR, "the event was not applied"))
    logger.info("payment event %s (%s): %s", event.id, event.type, outcome.value)
    return JSONResponse({"received": True, "outcome": outcome.value})
