"""The demo payment provider's control routes: how it delivers and how fast intents move.

Like ``/_faults`` of every demo service, these are for tests and demos, never faulted and never
counted: a test must be able to change the provider's behaviour while it misbehaves.
"""

from __future__ import annotations

import json
from dataclasses import fields

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.payments_delivery import DeliveryFaults, Endpoint, Webhooks
from demo.payments_ledger import Ledger, Pace

__all__ = ["control_routes"]


def control_routes(webhooks: Webhooks, ledger: Ledger) -> list[Route]:
    """``/_delivery``, ``/_pace``, ``/_webhook`` and ``/_deliveries``: never faulted."""

    async def get_delivery(request: Request) -> Response:
        return JSONResponse(webhooks.faults.as_json())

    async def put_delivery(request: Request) -> Response:
        try:
            webhooks.faults = DeliveryFaults.from_json(json.loads(await request.body()))
        except ValueError as error:
            return JSONResponse({"error": "bad_request", "message": str(error)}, status_code=400)
        return JSONResponse(webhooks.faults.as_json())

    async def get_pace(request: Request) -> Response:
        return JSONResponse({item.name: getattr(ledger.pace, item.name) for item in fields(Pace)})

    async def put_pace(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
            ledger.pace = Pace(**data)
            if not 0 <= ledger.pace.decline_rate <= 1:
                raise ValueError("decline_rate must be between 0 and 1")
        except (ValueError, TypeError) as error:
            ledger.pace = Pace()
            return JSONResponse({"error": "bad_request", "message": str(error)}, status_code=400)
        return await get_pace(request)

    async def get_webhook(request: Request) -> Response:
        endpoint = webhooks.endpoint
        return JSONResponse({"url": endpoint.url, "secrets": len(endpoint.secrets)})

    async def put_webhook(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
            url, secrets = data.get("url"), data.get("secrets", [])
            if not (url is None or isinstance(url, str)) or not all(
                isinstance(secret, str) and secret for secret in secrets
            ):
                raise ValueError("url is a string or null, secrets a list of strings")
        except (ValueError, AttributeError) as error:
            return JSONResponse({"error": "bad_request", "message": str(error)}, status_code=400)
        webhooks.endpoint = Endpoint(url, tuple(secrets))
        return await get_webhook(request)

    async def deliveries(request: Request) -> Response:
        return JSONResponse(webhooks.stats())

    return [
        Route("/_delivery", get_delivery, methods=["GET"]),
        Route("/_delivery", put_delivery, methods=["PUT"]),
        Route("/_pace", get_pace, methods=["GET"]),
        Route("/_pace", put_pace, methods=["PUT"]),
        Route("/_webhook", get_webhook, methods=["GET"]),
        Route("/_webhook", put_webhook, methods=["PUT"]),
        Route("/_deliveries", deliveries, methods=["GET"]),
    ]
