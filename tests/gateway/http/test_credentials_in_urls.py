"""Credentials never travel through URLs or request ids into logs: a token in the query string
is refused, sensitive query parameters are redacted from access-log lines whatever their value,
and a request id that looks like a credential is replaced rather than echoed and forwarded."""

from __future__ import annotations

import logging

import pytest

from gateway.observability.redaction import RedactApiKeys
from tests.helpers import codes

ME = "{ me { id } }"
SECRET = "S" * 40
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ." + SECRET


def access_log_line(path: str) -> str:
    """The line uvicorn's access logger writes for ``GET path``, after our redaction filter."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:4711", "GET", path, "1.1", 401),
        None,
    )
    assert RedactApiKeys().filter(record)
    return record.getMessage()


# --- redaction of sensitive query parameters ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apikey",
        "key",
        "access_token",
        "token",
        "id_token",
        "password",
        "secret",
        "client_secret",
    ],
)
def test_a_sensitive_query_parameter_value_is_redacted_whatever_it_looks_like(name: str):
    line = access_log_line(f"/graphql?query=%7Bme%7Bid%7D%7D&{name}=abcdef123456_{SECRET}")

    assert SECRET not in line
    assert f"&{name}=[REDACTED] " in line
    assert "query=%7Bme%7Bid%7D%7D" in line  # the rest of the line is left as it was


def test_a_key_without_the_mfk_prefix_is_redacted_from_the_access_log():
    line = access_log_line(f"/graphql?api_key=abcdefabcdef_{SECRET}")

    assert line.endswith('"GET /graphql?api_key=[REDACTED] HTTP/1.1" 401')


@pytest.mark.parametrize("name", ["API_KEY", "Access_Token", "PassWord"])
def test_sensitive_parameter_names_are_matched_in_any_case(name: str):
    line = access_log_line(f"/graphql?{name}={SECRET}")

    assert SECRET not in line
    assert f"{name}=[REDACTED]" in line


@pytest.mark.parametrize(
    "encoded_name",
    ["api%5Fkey", "%61pi_key", "access%5ftoken", "api%255Fkey", "%70assword"],
)
def test_percent_encoded_sensitive_parameter_names_are_matched(encoded_name: str):
    line = access_log_line(f"/graphql?query=x&{encoded_name}={SECRET}")

    assert SECRET not in line
    assert "=[REDACTED]" in line


def test_an_encoded_equals_sign_does_not_smuggle_a_value_past_redaction():
    line = access_log_line(f"/graphql?api_key%3D{SECRET}")

    assert SECRET not in line


def test_a_jwt_in_an_access_token_parameter_is_redacted():
    line = access_log_line(f"/graphql?query=%7Bme%7Bid%7D%7D&access_token={JWT}")

    assert SECRET not in line
    assert "eyJ" not in line


def test_parameters_that_merely_contain_a_sensitive_name_are_left_alone():
    line = access_log_line("/graphql?keyword=shoes&tokens=3&query=x")

    assert "keyword=shoes&tokens=3&query=x" in line


def test_a_partner_key_keeps_its_key_id_when_redacted():
    line = access_log_line(f"/graphql?apikey=mfk_abcdefabcdef_{SECRET}")

    assert "apikey=mfk_abcdefabcdef_[REDACTED]" in line


# --- a token in the URL is refused ---------------------------------------------------------


async def test_an_access_token_in_the_query_string_is_refused_not_served_as_anonymous(
    gateway,
):
    token = gateway.token("protection-subject", "users:read")

    response, statements = await gateway.get({"query": ME, "access_token": token})

    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]
    assert response.json()["errors"][0]["message"] == (
        "credentials are not accepted in the URL; send the Authorization header"
    )
    assert "data" not in response.json()
    assert statements == 0


async def test_an_access_token_parameter_is_refused_in_any_case(gateway):
    response, _ = await gateway.get({"query": ME, "Access_Token": "opaque-value"})

    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]


async def test_an_access_token_in_the_url_of_a_post_is_refused(gateway):
    response = await gateway.http.post(
        "/graphql",
        params={"access_token": gateway.token("protection-subject", "users:read")},
        json={"query": ME},
        headers={"Accept": "application/graphql-response+json"},
    )

    assert response.status_code == 401
    assert "not accepted in the URL" in response.json()["errors"][0]["message"]


# --- request ids that look like credentials ------------------------------------------------


@pytest.mark.parametrize(
    "supplied",
    [
        "mfk_abcdefabcdef_" + SECRET,
        "MFK_abcdefabcdef_" + SECRET,
        "trace-mfk_abcdef",
        JWT,
    ],
)
async def test_a_request_id_that_looks_like_a_credential_is_replaced(gateway, supplied: str):
    response, _ = await gateway.get({"query": ME}, headers={"X-Request-ID": supplied})

    echoed = response.headers["X-Request-ID"]
    assert echoed != supplied
    assert SECRET not in echoed
    assert echoed.isalnum()
    assert len(echoed) == 32


async def test_an_ordinary_dotted_request_id_is_still_echoed(gateway):
    response, _ = await gateway.get({"query": ME}, headers={"X-Request-ID": "trace-42.a_b"})

    assert response.headers["X-Request-ID"] == "trace-42.a_b"
