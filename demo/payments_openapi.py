"""The demo payment provider's OpenAPI 3.1 document, written by hand to match its routes.

Its own module, next to ``demo.openapi`` whose shared parts (the operational routes, the
``Error`` schema, injected-fault answers) it reuses, because that module already holds two
services' documents.
"""

from __future__ import annotations

from typing import Any

from demo.openapi import fault_responses, json_content, operational_openapi, schema_ref

__all__ = ["payments_document"]

_INTENT_STATUSES = [
    "processing",
    "requires_capture",
    "requires_payment_method",
    "succeeded",
    "canceled",
]
_EVENT_TYPES = [
    "payment_intent.authorized",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "refund.succeeded",
]


def _schemas() -> dict[str, Any]:
    metadata = {
        "type": "object",
        "maxProperties": 20,
        "additionalProperties": {"type": "string", "maxLength": 500},
    }
    return {
        "ProviderError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["type", "code", "message"],
                    "properties": {
                        "type": {
                            "enum": [
                                "invalid_request_error",
                                "idempotency_error",
                                "authentication_error",
                            ]
                        },
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                }
            },
        },
        "NewIntent": {
            "type": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"type": "integer", "minimum": 1, "description": "Minor units"},
                "currency": {"type": "string", "pattern": "^[a-zA-Z]{3}$"},
                "capture_method": {"enum": ["automatic", "manual"], "default": "automatic"},
                "reference": {"type": "string", "maxLength": 100},
                "metadata": metadata,
            },
        },
        "Intent": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "examples": ["pi_3f2a…"]},
                "object": {"const": "payment_intent"},
                "amount": {"type": "integer"},
                "amount_refunded": {"type": "integer"},
                "currency": {"type": "string"},
                "capture_method": {"enum": ["automatic", "manual"]},
                "status": {"enum": _INTENT_STATUSES},
                "client_secret": {"type": "string"},
                "reference": {"type": ["string", "null"]},
                "metadata": metadata,
                "last_payment_error": {"type": ["object", "null"]},
                "created": {"type": "integer", "description": "Unix seconds"},
            },
        },
        "NewRefund": {
            "type": "object",
            "required": ["payment_intent"],
            "properties": {
                "payment_intent": {"type": "string"},
                "amount": {"type": "integer", "description": "Minor units; default: the rest"},
                "metadata": metadata,
            },
        },
        "Refund": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "refund"},
                "payment_intent": {"type": "string"},
                "amount": {"type": "integer"},
                "currency": {"type": "string"},
                "status": {"enum": ["pending", "succeeded"]},
                "metadata": metadata,
                "created": {"type": "integer"},
            },
        },
        "Event": {
            "type": "object",
            "description": "What a webhook delivers, signed in the Payment-Signature header.",
            "properties": {
                "id": {"type": "string", "examples": ["evt_…"]},
                "object": {"const": "event"},
                "type": {"enum": _EVENT_TYPES},
                "created": {"type": "integer"},
                "data": {
                    "type": "object",
                    "properties": {
                        "object": {"oneOf": [schema_ref("Intent"), schema_ref("Refund")]}
                    },
                },
            },
        },
    }


def _post(summary: str, request: str | None, answer: str, *, key: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": key == "required",
                "description": "The same key and request answer as the first time",
                "schema": {"type": "string", "maxLength": 255},
            }
        ],
        "responses": {
            "200": json_content(answer, schema_ref(answer)),
            "400": json_content("Refused", schema_ref("ProviderError")),
            "401": json_content("Bad API key", schema_ref("ProviderError")),
            "422": json_content("Key reused with another request", schema_ref("ProviderError")),
            **fault_responses(),
        },
    }
    if request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(request)}},
        }
    return operation


def payments_document() -> dict[str, Any]:
    paths, schemas = operational_openapi()
    by_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    missing = json_content("No such object", schema_ref("ProviderError"))
    paths["/v1/payment_intents"] = {
        "post": _post("Create a confirmed intent", "NewIntent", "Intent", key="required"),
        "get": {
            "summary": "Intents, optionally by reference",
            "parameters": [{"name": "reference", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": json_content("A list", {"type": "object"})},
        },
    }
    paths["/v1/payment_intents/{id}"] = {
        "get": {
            "summary": "One intent",
            "parameters": [by_id],
            "responses": {"200": json_content("The intent", schema_ref("Intent")), "404": missing},
        }
    }
    for action, summary in (("capture", "Capture an authorized intent"), ("cancel", "Void it")):
        operation = _post(summary, None, "Intent", key="optional")
        operation["parameters"].append(by_id)
        paths[f"/v1/payment_intents/{{id}}/{action}"] = {"post": operation}
    paths["/v1/refunds"] = {
        "post": _post("Refund a capture", "NewRefund", "Refund", key="required")
    }
    paths["/v1/events"] = {
        "get": {
            "summary": "Every event emitted, oldest first (100 per page)",
            "parameters": [{"name": "after", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": json_content("A list of events", {"type": "object"})},
        }
    }
    for path, summary in (
        ("/_delivery", "Delivery faults: duplicates, out_of_order, delay_ms, failure_rate"),
        ("/_pace", "How intents move: decline_rate, authorize_ms, capture_ms, refund_ms"),
        ("/_webhook", "Where events go and how many secrets sign them"),
    ):
        paths[path] = {
            "get": {"summary": summary, "responses": {"200": json_content("Now", {})}},
            "put": {
                "summary": f"Replace: {summary}",
                "responses": {"200": json_content("Now", {})},
            },
        }
    paths["/_deliveries"] = {
        "get": {"summary": "Delivery counters", "responses": {"200": json_content("Counts", {})}}
    }
    schemas.update(_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Manifold demo payment provider",
            "version": "1.0.0",
            "description": "Payment intents, refunds and signed webhooks; see demo.payments.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
