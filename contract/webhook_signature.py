"""The payment webhook signature scheme, shared by the party that signs and the one that checks.

The scheme the major payment providers use (Stripe's ``Stripe-Signature`` is the model)::

    Payment-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff5…

``v1`` is the lowercase hex HMAC-SHA256, keyed with the shared secret, of the timestamp, a dot
and the raw request body (``b"1767225600." + body``). Binding the timestamp into the MAC lets the
receiver refuse a captured request replayed later (outside its tolerance window); binding the
raw bytes means the receiver must verify before parsing, since re-serialised JSON would differ.
A header may carry several ``v1`` values (one per secret while the sender rotates); one match
against any secret the receiver holds (it holds two while it rotates) is enough. Comparisons are
constant-time.

It lives in ``contract`` because both sides of the contract use it: the demo payment provider
signs with it, and the gateway verifies with it; it needs nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "SIGNATURE_HEADER",
    "Signature",
    "SignatureError",
    "SignatureProblem",
    "parse_signature",
    "sign",
    "signature_header",
    "verify",
]

SIGNATURE_HEADER = "Payment-Signature"

#: Longer headers are refused unparsed: a legitimate one holds a timestamp and a few MACs.
MAX_HEADER_LENGTH = 1024
MAX_SIGNATURES = 8
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_MAC = re.compile(r"[0-9a-f]{64}")


class SignatureProblem(StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    STALE = "stale"
    MISMATCH = "mismatch"


class SignatureError(ValueError):
    """Why a signature was refused; the message never repeats what the sender sent."""

    def __init__(self, problem: SignatureProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Signature:
    timestamp: int
    macs: tuple[str, ...]


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` MAC of ``body`` sent at ``timestamp`` (Unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The header value a sender writes: one ``v1`` per secret it signs with."""
    macs = ",".join(f"v1={sign(body, secret, timestamp)}" for secret in secrets)
    return f"t={timestamp},{macs}"


def parse_signature(header: str | None) -> Signature:
    """The timestamp and ``v1`` MACs of a header; other schemes (``v0=``) are ignored."""
    if header is None or not header.strip():
        raise SignatureError(SignatureProblem.MISSING, f"no {SIGNATURE_HEADER} header")
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError(SignatureProblem.MALFORMED, "the signature header is too long")
    timestamp: int | None = None
    macs: list[str] = []
    for item in header.split(","):
        name, separator, value = item.strip().partition("=")
        if not separator:
            raise SignatureError(SignatureProblem.MALFORMED, "the signature header is malformed")
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise SignatureError(SignatureProblem.MALFORMED, "the signature timestamp is bad")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX_MAC.fullmatch(value):
                raise SignatureError(SignatureProblem.MALFORMED, "a v1 signature is not hex")
            macs.append(value)
    if timestamp is None or not macs:
        raise SignatureError(
            SignatureProblem.MALFORMED, "the signature header needs t= and at least one v1="
        )
    if len(macs) > MAX_SIGNATURES:
        raise SignatureError(SignatureProblem.MALFORMED, "too many signatures in the header")
    return Signature(timestamp, tuple(macs))


def verify(
    body: bytes,
    header: str | None,
    secrets: Iterable[str],
    *,
    now: float,
    tolerance_seconds: float,
) -> Signature:
    """The verified signature, or ``SignatureError``: missing, malformed, stale, or matching
    none of ``secrets``. A timestamp too far in the future is as stale as one too old."""
    signature = parse_signature(header)
    if abs(now - signature.timestamp) > tolerance_seconds:
        raise SignatureError(
            SignatureProblem.STALE, "the signature timestamp is outside the tolerance window"
        )
    expected = [sign(body, secret, signature.timestamp) for secret in secrets if secret]
    # Every pair is compared, so the time taken does not tell which secret or MAC matched.
    matched = False
    for mac in signature.macs:
        for candidate in expected:
            matched |= hmac.compare_digest(mac, candidate)
    if not matched:
        raise SignatureError(SignatureProblem.MISMATCH, "the signature does not match")
    return signature
