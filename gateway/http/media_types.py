"""Media types of GraphQL over HTTP: what a request body is, and what an answer should be."""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def media_type(content_type: str | None) -> str | None:
    """The essence of a Content-Type (``application/json; charset=utf-8`` → application/json)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` if accepted, before or without application/json."""
    if not accept:
        return JSON
    for part in accept.split(","):
        essence = media_type(part)
        if essence == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if essence == JSON:
            return JSON
    return JSON
