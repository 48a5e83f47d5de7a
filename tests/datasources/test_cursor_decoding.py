"""Cursors are the caller's text: whatever one holds, decoding it is a value or
``BAD_USER_INPUT``, never a crash. Pure: no services."""

from __future__ import annotations

import base64

import pytest

from contract.errors import BadUserInputError
from datasources.pagination import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor


def _cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_the_gateway_wrote_decodes_to_its_key():
    assert decode_cursor("Order", encode_cursor("Order", [7]), 1) == [7]


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b'["Order", 1' + b"0" * 5000 + b"]",
        b'["Order", ' + b"[" * 150 + b"]" * 150 + b"]",
    ],
    ids=["nested-past-the-decoder", "an-int-past-int-parsing", "nested-within-the-limit"],
)
def test_a_cursor_of_any_json_is_bad_user_input(raw):
    with pytest.raises(BadUserInputError):
        decode_cursor("Order", _cursor_of(raw), 1)


def test_a_cursor_longer_than_any_the_gateway_writes_is_bad_user_input():
    with pytest.raises(BadUserInputError):
        decode_cursor("Order", "A" * (MAX_CURSOR_LENGTH + 1), 1)
