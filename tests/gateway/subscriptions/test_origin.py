"""The browser origin rule of the streaming transports (cross-site WebSocket hijacking)."""

from __future__ import annotations

from gateway.subscriptions.origin import origin_allowed

ALLOWED = ("https://app.example",)


def test_a_request_without_origin_is_not_a_browser_and_is_allowed():
    assert origin_allowed(None, host="gateway.example", allowed=())


def test_an_allowed_origin_may_subscribe():
    assert origin_allowed("https://app.example", host="gateway.example", allowed=ALLOWED)


def test_origins_compare_without_case_or_trailing_slash():
    assert origin_allowed("HTTPS://App.Example/", host="gateway.example", allowed=ALLOWED)


def test_a_foreign_origin_is_refused():
    assert not origin_allowed("https://evil.example", host="gateway.example", allowed=ALLOWED)


def test_the_gateway_s_own_origin_is_allowed_for_its_graphiql():
    assert origin_allowed("http://localhost:8000", host="localhost:8000", allowed=())


def test_a_null_origin_is_refused():
    assert not origin_allowed("null", host="gateway.example", allowed=ALLOWED)


def test_a_wildcard_allows_every_origin():
    assert origin_allowed("https://anyone.example", host="gateway.example", allowed=("*",))


def test_the_same_host_on_another_port_is_another_origin():
    assert not origin_allowed("http://localhost:9000", host="localhost:8000", allowed=())
