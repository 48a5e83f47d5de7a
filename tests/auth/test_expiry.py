"""How long an accepted credential may keep a connection open."""

from __future__ import annotations

import base64

import orjson

from auth.expiry import validity
from gateway.subscriptions.credentials import CredentialHeaders


def jwt_with(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_a_bearer_jwt_is_valid_until_its_exp():
    headers = CredentialHeaders([("Authorization", f"Bearer {jwt_with({'exp': 1700000000})}")])
    found = validity(headers)
    assert (found.expires_at, found.revocable) == (1700000000.0, False)


def test_an_api_key_has_no_expiry_here_but_is_rechecked():
    found = validity(CredentialHeaders([("X-API-Key", "mfk_x_y")]))
    assert (found.expires_at, found.revocable) == (None, True)


def test_an_opaque_token_is_rechecked():
    found = validity(CredentialHeaders([("authorization", "Bearer opaque-token")]))
    assert found.revocable


def test_no_credential_needs_no_watching():
    found = validity(CredentialHeaders([]))
    assert (found.expires_at, found.revocable) == (None, False)


def test_a_non_numeric_exp_is_no_expiry():
    headers = CredentialHeaders([("Authorization", f"Bearer {jwt_with({'exp': 'soon'})}")])
    assert validity(headers).expires_at is None
