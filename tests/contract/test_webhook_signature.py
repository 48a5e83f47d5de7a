"""The webhook signature scheme, pure: what verifies, and every way a request fails to."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from contract.webhook_signature import (
    SignatureError,
    SignatureProblem,
    parse_signature,
    sign,
    signature_header,
    verify,
)

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'
NOW = 1_767_225_600


def test_v1_is_the_hex_hmac_sha256_of_the_timestamp_a_dot_and_the_raw_body():
    expected = hmac.new(b"whsec", b"1767225600." + BODY, hashlib.sha256).hexdigest()

    assert sign(BODY, "whsec", NOW) == expected
    assert signature_header(BODY, ["whsec"], NOW) == f"t={NOW},v1={expected}"


def test_a_header_signed_with_the_secret_verifies():
    signature = verify(
        BODY, signature_header(BODY, ["whsec"], NOW), ["whsec"], now=NOW + 10, tolerance_seconds=300
    )

    assert signature.timestamp == NOW


def test_any_of_the_receivers_secrets_may_match_during_rotation():
    header = signature_header(BODY, ["old"], NOW)

    verify(BODY, header, ["new", "old"], now=NOW, tolerance_seconds=300)


def test_any_of_the_senders_signatures_may_match_during_its_rotation():
    header = signature_header(BODY, ["new", "old"], NOW)

    verify(BODY, header, ["old"], now=NOW, tolerance_seconds=300)


@pytest.mark.parametrize(
    ("body", "secrets", "now", "problem"),
    [
        (BODY + b" ", ["whsec"], NOW, SignatureProblem.MISMATCH),
        (BODY, ["other"], NOW, SignatureProblem.MISMATCH),
        (BODY, [], NOW, SignatureProblem.MISMATCH),
        (BODY, ["whsec"], NOW + 301, SignatureProblem.STALE),
        (BODY, ["whsec"], NOW - 301, SignatureProblem.STALE),
    ],
    ids=["tampered-body", "wrong-secret", "no-secret", "too-old", "from-the-future"],
)
def test_a_signature_that_does_not_hold_is_refused(body, secrets, now, problem):
    header = signature_header(BODY, ["whsec"], NOW)

    with pytest.raises(SignatureError) as refused:
        verify(body, header, secrets, now=now, tolerance_seconds=300)

    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, SignatureProblem.MISSING),
        ("  ", SignatureProblem.MISSING),
        ("v1=" + "a" * 64, SignatureProblem.MALFORMED),
        (f"t={NOW}", SignatureProblem.MALFORMED),
        (f"t={NOW},v1=XYZ", SignatureProblem.MALFORMED),
        (f"t=soon,v1={'a' * 64}", SignatureProblem.MALFORMED),
        (f"t={NOW},t={NOW},v1={'a' * 64}", SignatureProblem.MALFORMED),
        (f"t={NOW},v1={'a' * 64}," + ",".join(["v1=" + "b" * 64] * 8), SignatureProblem.MALFORMED),
        ("t=1," + "x" * 2000, SignatureProblem.MALFORMED),
        (f"t={NOW};v1={'a' * 64}", SignatureProblem.MALFORMED),
    ],
    ids=[
        "none",
        "blank",
        "no-timestamp",
        "no-signature",
        "not-hex",
        "timestamp-not-a-number",
        "two-timestamps",
        "too-many-signatures",
        "too-long",
        "wrong-separator",
    ],
)
def test_a_malformed_header_is_refused_before_any_mac_is_computed(header, problem):
    with pytest.raises(SignatureError) as refused:
        parse_signature(header)

    assert refused.value.problem is problem


def test_other_schemes_in_the_header_are_ignored():
    signature = parse_signature(f"t={NOW},v0=whatever,v1={'a' * 64}")

    assert signature.macs == ("a" * 64,)


def test_a_refusal_never_repeats_what_was_sent():
    header = f"t={NOW},v1={'c' * 64}"

    with pytest.raises(SignatureError) as refused:
        verify(BODY, header, ["whsec"], now=NOW, tolerance_seconds=300)

    assert "c" * 64 not in str(refused.value)
