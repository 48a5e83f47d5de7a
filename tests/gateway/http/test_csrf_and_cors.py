"""CSRF prevention (Apollo Router's rule, narrowed to requests that could carry ambient
credentials) and CORS origins from settings."""

from __future__ import annotations

import pytest

from tests.bodies import result
from tests.helpers import codes

ME = "{ me { id } }"


async def test_a_get_without_cookies_needs_no_preflight_header(gateway):
    response, _ = await gateway.request("GET", params={"query": ME})

    assert response.status_code == 200
    assert result(response.json()) == {"data": {"me": None}}


async def test_a_get_with_a_bearer_token_needs_no_preflight_header(gateway):
    """A page cannot set Authorization cross-site without a preflight: such a GET is no forgery."""
    token = gateway.token("csrf-subject", "users:read")

    response, _ = await gateway.request("GET", params={"query": ME}, token=token)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "ambient",
    [
        {"Cookie": "session=abc"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Negotiate YII="},
    ],
    ids=["cookie", "basic-auth", "negotiate"],
)
async def test_a_get_that_could_carry_ambient_credentials_needs_a_preflight_header(
    gateway, ambient
):
    response, statements = await gateway.request("GET", params={"query": ME}, headers=ambient)

    assert response.status_code == 400
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


async def test_a_get_with_a_cookie_and_a_preflight_header_is_served(gateway):
    response, _ = await gateway.request(
        "GET",
        params={"query": ME},
        headers={"Cookie": "session=abc", "apollo-require-preflight": "true"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_post_with_a_simple_content_type_is_refused(gateway, content_type):
    response, statements = await gateway.request(
        "POST", content=b'{"query": "{ me { id } }"}', headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


@pytest.mark.parametrize("header", ["apollo-require-preflight", "x-apollo-operation-name"])
async def test_a_get_with_a_preflight_header_is_served(gateway, header):
    response, _ = await gateway.request("GET", params={"query": ME}, headers={header: "Me"})

    assert response.status_code == 200
    assert result(response.json()) == {"data": {"me": None}}


async def test_a_get_with_a_json_content_type_is_served(gateway):
    response, _ = await gateway.request(
        "GET", params={"query": ME}, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200


async def test_a_simple_content_type_with_a_preflight_header_passes_csrf_then_is_415(gateway):
    response, _ = await gateway.request(
        "POST",
        content=b'{"query": "{ me { id } }"}',
        headers={"Content-Type": "text/plain", "apollo-require-preflight": "true"},
    )

    assert response.status_code == 415
    assert codes(response) == ["BAD_USER_INPUT"]


async def test_csrf_prevention_can_be_turned_off(make_gateway):
    gateway = await make_gateway(csrf_prevention=False)

    response, _ = await gateway.request(
        "GET", params={"query": ME}, headers={"Cookie": "session=abc"}
    )

    assert response.status_code == 200


async def test_graphiql_is_still_served_to_a_browser(gateway):
    response, _ = await gateway.request("GET", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_a_preflight_from_an_allowed_origin_is_answered(make_gateway):
    gateway = await make_gateway(cors_origins=("https://app.example",))

    response, _ = await gateway.request(
        "OPTIONS",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"


async def test_a_preflight_from_another_origin_gets_no_cors_grant(make_gateway):
    gateway = await make_gateway(cors_origins=("https://app.example",))

    response, _ = await gateway.request(
        "OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_no_origin_is_allowed_by_default(gateway):
    response, _ = await gateway.post({"query": ME}, headers={"Origin": "https://app.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
