"""The demo services' OpenAPI 3.1 documents, written by hand to match their routes.

Starlette routes carry no schema, so the documents are plain dicts, kept here rather than in
the service modules so that those stay about serving. Each service passes in the limits its
routes enforce, so its document states the same numbers. The routes every demo service shares
(``/healthz``, ``/openapi.json``, ``/_faults``, ``/_stats``; see ``demo.faults``), the shared
``Error`` schema and the injected-fault answers are described once, by ``operational_openapi``
and ``fault_responses``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demo.catalog import CURRENCY, ContentKind, ContentStatus

__all__ = [
    "content_document",
    "fault_responses",
    "json_content",
    "operational_openapi",
    "recommendations_document",
    "schema_ref",
]


# --- shared helpers and the operational routes ------------------------------------------------


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operational_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths and component schemas of ``operational_routes`` (and ``Error``)."""
    faults_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "latency_ms": {"type": "integer", "minimum": 0, "default": 0},
            "error_rate": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
            "error_status": {
                "type": "integer",
                "minimum": 400,
                "maximum": 599,
                "default": 503,
            },
            "retry_after": {"type": ["integer", "null"], "minimum": 0, "default": None},
            "hang": {"type": "boolean", "default": False},
            "pad_bytes": {"type": "integer", "minimum": 0, "default": 0},
        },
    }
    stats_schema = {
        "type": "object",
        "required": ["requests", "byRoute"],
        "properties": {
            "requests": {"type": "integer", "description": "API requests, faulted ones too"},
            "byRoute": {
                "type": "object",
                "description": "Requests per API route template",
                "additionalProperties": {"type": "integer"},
            },
        },
    }
    error_schema = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "examples": ["bad_request", "not_found"]},
            "message": {"type": "string"},
        },
    }
    faults = json_content("The faults now in force", schema_ref("Faults"))
    stats = json_content("Request counters", schema_ref("Stats"))
    paths = {
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "responses": {"200": json_content("Alive", schema_ref("Health"))},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": json_content("OpenAPI 3.1 document", {"type": "object"})},
            }
        },
        "/_faults": {
            "get": {"summary": "The injected faults", "responses": {"200": faults}},
            "put": {
                "summary": "Replace the injected faults (a missing field takes its default)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema_ref("Faults")}},
                },
                "responses": {
                    "200": faults,
                    "400": json_content("Invalid faults", schema_ref("Error")),
                },
            },
        },
        "/_stats": {"get": {"summary": "API request counters", "responses": {"200": stats}}},
        "/_stats/reset": {
            "post": {"summary": "Zero the counters", "responses": {"200": stats}},
        },
    }
    schemas = {
        "Error": error_schema,
        "Faults": faults_schema,
        "Stats": stats_schema,
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
    }
    return paths, schemas


def fault_responses() -> dict[str, Any]:
    """The answers any faulted API route may give besides its own."""
    return {
        "default": {
            **json_content("An injected fault (status set in /_faults)", schema_ref("Error")),
            "headers": {
                "Retry-After": {
                    "description": "Seconds, when the faults set retry_after",
                    "schema": {"type": "integer"},
                }
            },
        }
    }


# --- the content service ---------------------------------------------------------------------


def content_document(
    *, max_batch: int, default_limit: int, not_found_max_age: int
) -> dict[str, Any]:
    """The content service's document (``demo.content``), given the limits it enforces."""
    paths, schemas = operational_openapi()
    cached = {
        "Cache-Control": {
            "description": "max-age=<cache_max_age> (60 by default)",
            "schema": {"type": "string"},
        }
    }
    bad = json_content("Bad parameters", schema_ref("Error"))

    def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "description": description, "schema": schema}

    paths["/content/{id}"] = {
        "get": {
            "summary": "One item by id, drafts included",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {**json_content("The item", schema_ref("Content")), "headers": cached},
                "400": bad,
                "404": {
                    **json_content("No such item", schema_ref("Error")),
                    "headers": {
                        "Cache-Control": {
                            "description": f"max-age={not_found_max_age}",
                            "schema": {"type": "string"},
                        }
                    },
                },
                **fault_responses(),
            },
        }
    }
    comma_list = f"Comma-separated, at most {max_batch}; not combinable with listing parameters"
    paths["/content"] = {
        "get": {
            "summary": "A batch by ids or slugs, or else a page of the listing",
            "description": (
                "With `ids` or `slugs`: the items found, in the order asked, duplicates "
                "collapsed, drafts included (answer: ContentBatch). Otherwise a page of the "
                "listing in ascending id (answer: ContentPage)."
            ),
            "parameters": [
                query("ids", f"Content ids. {comma_list}", {"type": "string"}),
                query("slugs", f"Content slugs. {comma_list}", {"type": "string"}),
                query("kind", "Listing: only this kind", {"enum": [k.value for k in ContentKind]}),
                query("tag", "Listing: only items with this tag", {"type": "string"}),
                query(
                    "status",
                    "Listing: only this status",
                    {"enum": ["published", "draft", "any"], "default": "published"},
                ),
                query(
                    "limit",
                    "Listing: page size",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_batch,
                        "default": default_limit,
                    },
                ),
                query(
                    "after",
                    "Listing: resume after this cursor: a `nextCursor`, which is the id of "
                    "the last item of its page (any item's id resumes after that item)",
                    {"type": "string", "pattern": "^[0-9]+$"},
                ),
            ],
            "responses": {
                "200": {
                    **json_content(
                        "A batch or a page",
                        {"oneOf": [schema_ref("ContentBatch"), schema_ref("ContentPage")]},
                    ),
                    "headers": cached,
                },
                "400": bad,
                **fault_responses(),
            },
        }
    }
    schemas.update(_content_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Manifold demo content service",
            "version": "1.0.0",
            "description": "Articles, videos and products; see the demo.content module.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _content_schemas() -> dict[str, Any]:
    content = {
        "type": "object",
        "required": [
            "id", "slug", "kind", "title", "summary", "body", "tags", "price", "authorId",
            "status", "publishedAt",
        ],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "kind": {"enum": [kind.value for kind in ContentKind]},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "body": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
            "price": {"oneOf": [schema_ref("Money"), {"type": "null"}]},
            "authorId": {"type": "integer"},
            "status": {"enum": [status.value for status in ContentStatus]},
            "publishedAt": {"type": ["string", "null"], "format": "date-time"},
        },
    }  # fmt: skip
    items = {"type": "array", "items": schema_ref("Content")}
    return {
        "Money": {
            "type": "object",
            "required": ["amount", "currency"],
            "properties": {
                "amount": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"},
                "currency": {"type": "string", "examples": [CURRENCY]},
            },
        },
        "Content": content,
        "ContentBatch": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": items},
        },
        "ContentPage": {
            "type": "object",
            "required": ["items", "nextCursor"],
            "properties": {"items": items, "nextCursor": {"type": ["string", "null"]}},
        },
    }


# --- the recommendations service -------------------------------------------------------------


def recommendations_document(
    *, max_users: int, max_limit: int, default_limit: int, cache_max_age: int
) -> dict[str, Any]:
    """The recommendations service's document (``demo.recommendations``), given its limits."""
    paths, schemas = operational_openapi()
    paths["/recommendations"] = {
        "get": {
            "summary": "Recommendations for a batch of users",
            "description": (
                "One entry per distinct user id asked for; users without purchases get the "
                "most-bought products (reason `Popular`). Scores are in (0, 1], sorted "
                "descending, ties by content id."
            ),
            "parameters": [
                {
                    "name": "user_ids",
                    "in": "query",
                    "required": True,
                    "description": f"Comma-separated positive user ids, at most {max_users}",
                    "schema": {"type": "string"},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "description": "Most recommendations per user",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_limit,
                        "default": default_limit,
                    },
                },
            ],
            "responses": {
                "200": {
                    **json_content("Per-user recommendations", schema_ref("Recommendations")),
                    "headers": {
                        "Cache-Control": {
                            "description": f"max-age={cache_max_age}",
                            "schema": {"type": "string"},
                        }
                    },
                },
                "400": json_content("Bad parameters", schema_ref("Error")),
                **fault_responses(),
            },
        }
    }
    schemas["Recommendation"] = {
        "type": "object",
        "required": ["contentId", "score", "reason"],
        "properties": {
            "contentId": {"type": "integer"},
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
    }
    schemas["Recommendations"] = {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "object",
                "description": "User id (as a string) -> that user's recommendations",
                "additionalProperties": {"type": "array", "items": schema_ref("Recommendation")},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Manifold demo recommendations service",
            "version": "1.0.0",
            "description": "Co-occurrence and tag similarity; see demo.recommendations.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
