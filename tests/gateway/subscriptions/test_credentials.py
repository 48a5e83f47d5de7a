"""The credential of a connection: the init payload and the upgrade headers as one."""

from __future__ import annotations

import pytest

from contract.errors import AuthenticationError
from gateway.subscriptions.credentials import CredentialHeaders, credential_headers


def test_payload_keys_are_read_case_insensitively():
    headers = credential_headers(CredentialHeaders([]), {"authorization": "Bearer t"})
    assert headers.getlist("Authorization") == ["Bearer t"]
    assert credential_headers(CredentialHeaders([]), {"X-Api-Key": "k"}).getlist("x-api-key") == [
        "k"
    ]


def test_a_credential_in_both_places_is_two_credentials():
    upgrade = CredentialHeaders([("authorization", "Bearer a")])
    assert credential_headers(upgrade, {"Authorization": "Bearer a"}).getlist("authorization") == [
        "Bearer a",
        "Bearer a",
    ]


def test_other_payload_keys_are_ignored():
    assert credential_headers(CredentialHeaders([]), {"cookie": "x"}).getlist("cookie") == []


def test_a_credential_that_is_not_a_string_is_refused():
    with pytest.raises(AuthenticationError):
        credential_headers(CredentialHeaders([]), {"Authorization": ["Bearer a"]})
