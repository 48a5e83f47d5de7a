"""Production refuses partner features half-configured."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.test_settings import clean_environment, prod  # noqa: F401 - autouse fixture

INTROSPECTION = {
    "oauth_introspection_url": "https://idp.example.com/oauth/introspect",
    "oauth_client_id": "manifold",
    "oauth_client_secret": "a-long-random-client-secret",
}


def test_production_requires_an_api_key_pepper():
    with pytest.raises(ValidationError, match="GATEWAY_API_KEY_PEPPER must be set"):
        prod(api_key_pepper=None)


def test_production_accepts_a_complete_introspection_configuration():
    assert prod(**INTROSPECTION).oauth_introspection_url == INTROSPECTION["oauth_introspection_url"]


@pytest.mark.parametrize(
    "change",
    [
        {"oauth_introspection_url": "http://idp.example.com/oauth/introspect"},
        {"oauth_client_id": None},
        {"oauth_client_secret": None},
    ],
)
def test_production_refuses_introspection_without_https_or_client_credentials(change):
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_INTROSPECTION_URL"):
        prod(**{**INTROSPECTION, **change})


def test_production_refuses_a_placeholder_client_secret():
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_CLIENT_SECRET"):
        prod(**{**INTROSPECTION, "oauth_client_secret": "secret"})
