"""Content negotiation and the status each media type gives a refused operation (pure)."""

from __future__ import annotations

import pytest

from gateway.http.media_types import (
    GRAPHQL_RESPONSE,
    JSON,
    answer_status,
    asks_event_stream,
    negotiate,
    request_asks_event_stream,
)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8, application/json; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", JSON),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE};q=0.8", GRAPHQL_RESPONSE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        ("APPLICATION/JSON", JSON),
        ("application/json;q=banana", JSON),
    ],
)
def test_the_answer_uses_the_most_preferred_type_the_gateway_serves(accept, chosen):
    assert negotiate(accept) == chosen


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/xml", "image/*", "application/json;q=0", f"{GRAPHQL_RESPONSE};q=0"],
)
def test_an_accept_header_admitting_neither_json_type_is_unsatisfiable(accept):
    assert negotiate(accept) is None


def test_a_request_error_is_200_under_the_legacy_type():
    assert answer_status(JSON, 400, request_error=True) == 200


def test_a_request_error_keeps_400_under_the_graphql_response_type():
    assert answer_status(GRAPHQL_RESPONSE, 400, request_error=True) == 400


@pytest.mark.parametrize("status", [400, 401, 405, 413, 415, 429])
def test_other_refusals_keep_their_status_under_the_legacy_type(status):
    assert answer_status(JSON, status, request_error=False) == status


@pytest.mark.parametrize(
    "accept",
    [
        "text/event-stream",
        "text/event-stream, application/json",
        "application/json;q=0.5, text/event-stream",
        "text/event-stream, */*",
    ],
)
def test_an_accept_preferring_the_event_stream_asks_for_sse(accept):
    assert asks_event_stream(accept)


@pytest.mark.parametrize(
    "accept",
    [
        # urql's default for a query: JSON first, the stream as a fallback.
        "application/graphql-response+json, application/graphql+json, application/json,"
        " text/event-stream, multipart/mixed",
        "application/json, text/event-stream",
        "text/event-stream;q=0.5, application/json",
        "text/event-stream;q=0",
        "*/*",
        None,
    ],
)
def test_an_accept_preferring_json_or_not_naming_the_stream_gets_one_answer(accept):
    assert not asks_event_stream(accept)


def test_a_request_is_decided_once_with_its_accept_fields_read_as_one():
    scope = {"headers": [(b"accept", b"application/json"), (b"accept", b"text/event-stream")]}

    assert not request_asks_event_stream(scope)  # JSON comes first across both fields
    scope["headers"] = [(b"accept", b"text/event-stream")]
    assert not request_asks_event_stream(scope)  # decided already, for admission and routing
