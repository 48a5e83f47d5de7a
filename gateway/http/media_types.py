"""Media types of GraphQL over HTTP: what a request body is, what an answer should be, and the
status each media type gives a refused operation.

``application/graphql-response+json`` is the answer's media type when the client prefers it;
``application/json`` (the legacy type) otherwise, including for ``*/*``, ``application/*`` and a
missing ``Accept``, as the GraphQL-over-HTTP audit expects. An ``Accept`` that admits neither
is answered 406 (RECOMMENDED by the spec over ignoring it).

The legacy type changes one thing: a client reading ``application/json`` can only trust a body
that comes with 200 (a proxy's error page is JSON too), so a GraphQL request error (a document
that does not parse or validate, no operation to select, variables that do not coerce) is 200
there and 400 with ``application/graphql-response+json``. Requests that are not well-formed
GraphQL-over-HTTP requests, and refusals of the caller (401, 413, 415, 429, 405), keep their
status under both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping
from typing import Any

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
#: GraphQL over Server-Sent Events (graphql-sse): a request accepting it is a subscription
#: stream, served by ``gateway.subscriptions.sse``.
EVENT_STREAM = "text/event-stream"

#: Media ranges that admit the legacy type (the audit wants ``*/*`` answered with it).
_WILDCARDS = frozenset({"*/*", "application/*"})


#: Media ranges a JSON answer satisfies: a client naming one of these at least as high as
#: ``text/event-stream`` (and before it) asked for one JSON answer, not a stream.
_JSON_RANGES = frozenset({GRAPHQL_RESPONSE, JSON}) | _WILDCARDS


def _media_ranges(accept: str) -> Iterator[tuple[int, str, float]]:
    """``(position, media range, quality)`` for each entry of an ``Accept`` header."""
    for index, entry in enumerate(accept.split(",")):
        essence, *parameters = entry.split(";")
        yield index, essence.strip().lower(), _quality(parameters)


def asks_event_stream(accept: str | None) -> bool:
    """Whether ``Accept`` prefers ``text/event-stream`` to every JSON answer the gateway serves.

    Clients list what they can read: urql sends
    ``application/graphql-response+json, application/graphql+json, application/json,
    text/event-stream, multipart/mixed`` for a plain query, and must get JSON (cacheable, one
    answer), while graphql-sse and ``curl -H 'Accept: text/event-stream'`` name the stream
    alone. So the stream wins only by a higher quality, or by coming first at the same one.
    """
    stream = 0.0
    stream_at = -1
    json = 0.0
    json_at = -1
    for index, kind, quality in _media_ranges(accept or ""):
        if kind == EVENT_STREAM and quality > stream:
            stream, stream_at = quality, index
        elif kind in _JSON_RANGES and quality > json:
            json, json_at = quality, index
    if stream <= 0:
        return False
    return stream > json or (stream == json and stream_at < json_at)


def request_asks_event_stream(scope: MutableMapping[str, Any]) -> bool:
    """``asks_event_stream`` for an ASGI request, decided once per request: admission (which
    lets streams past the concurrency limit) and routing (which serves them) must agree. Several
    ``Accept`` fields read as one, comma-joined, as HTTP says they combine."""
    state: dict[str, Any] = scope.setdefault("state", {})
    decided: bool | None = state.get(_EVENT_STREAM_STATE)
    if decided is None:
        accept = b", ".join(value for name, value in scope["headers"] if name == b"accept")
        decided = state[_EVENT_STREAM_STATE] = asks_event_stream(accept.decode("latin-1"))
    return decided


_EVENT_STREAM_STATE = "asks_event_stream"


def media_type(content_type: str | None) -> str | None:
    """The essence of a Content-Type (``application/json; charset=utf-8`` → application/json)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()


def _quality(parameters: list[str]) -> float:
    """A media range's ``q`` (RFC 9110 §12.4.2); an unreadable one counts as the default, 1."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 1.0
            return quality if math.isfinite(quality) and 0 <= quality <= 1 else 1.0
    return 1.0


def negotiate(accept: str | None) -> str | None:
    """The answer's media type for ``accept``: the acceptable one with the highest quality, the
    first listed on a tie; None when it admits neither (a 406)."""
    if accept is None or not accept.strip():
        return JSON
    refused: set[str] = set()
    best: tuple[float, int, str] | None = None
    for index, essence, quality in _media_ranges(accept):
        if essence in (GRAPHQL_RESPONSE, JSON):
            candidate = essence
        elif essence in _WILDCARDS:
            candidate = "*"
        else:
            continue
        if quality == 0:
            refused.add(candidate)
            continue
        if best is None or quality > best[0]:
            best = (quality, index, candidate)
    if best is None:
        return None
    chosen = best[2]
    if chosen != "*":
        return None if chosen in refused else chosen
    # A wildcard admits either: the legacy type unless the client refused it by name.
    for fallback in (JSON, GRAPHQL_RESPONSE):
        if fallback not in refused:
            return fallback
    return None


def response_media_type(accept: str | None) -> str:
    """The media type to answer in, whatever ``accept`` says: a refusal of the ``Accept``
    header itself (406), or a shed request, is still answered in JSON, the contract's shape."""
    return negotiate(accept) or JSON


def answer_status(answer_media_type: str, status: int, *, request_error: bool) -> int:
    """The HTTP status of an operation's answer in ``answer_media_type`` (see the docstring)."""
    if request_error and answer_media_type == JSON:
        return 200
    return status
