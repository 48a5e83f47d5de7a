"""The ``verify()`` example in docs/payments.md, run as written: it accepts exactly the headers
``contract.webhook_signature`` (what the gateway uses) accepts, and never raises for any."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from contract.webhook_signature import SignatureError, sign, signature_header, verify

DOC = Path(__file__).resolve().parents[2] / "docs" / "payments.md"
BODY = b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}'
SECRET = "whsec_doc_example_secret"
TOLERANCE = 300

DocVerify = Callable[[bytes, str, str, int], bool]


def documented_verify() -> DocVerify:
    """The first ```python block after "Verifying one yourself", executed on its own."""
    text = DOC.read_text(encoding="utf-8")
    after = text[text.index("Verifying one yourself") :]
    match = re.search(r"```python\n(.*?)```", after, flags=re.DOTALL)
    assert match is not None, "docs/payments.md lost its Python verification example"
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)  # our own document
    function = namespace["verify"]
    assert callable(function)
    return function


def gateway_accepts(header: str) -> bool:
    try:
        verify(BODY, header, [SECRET], now=time.time(), tolerance_seconds=TOLERANCE)
    except SignatureError:
        return False
    return True


def _headers() -> dict[str, str]:
    now = int(time.time())
    mac = sign(BODY, SECRET, now)
    other = sign(BODY, "another-secret-entirely", now)
    return {
        "as-signed": signature_header(BODY, [SECRET], now),
        "space-after-comma": f"t={now}, v1={mac}",
        "spaces-around-items": f"  t={now} ,\tv1={mac}  ",
        "v1-first": f"v1={mac},t={now}",
        "rotation-second-mac": f"t={now},v1={other},v1={mac}",
        "unknown-scheme-ignored": f"t={now},v0=whatever,v1={mac}",
        "missing-t": f"v1={mac}",
        "missing-v1": f"t={now}",
        "two-t": f"t={now},t={now},v1={mac}",
        "t-not-digits": f"t=12a,v1={mac}",
        "t-too-long": f"t={'1' * 13},v1={mac}",
        "item-without-equals": f"t={now},v1={mac},junk",
        "empty": "",
        "uppercase-hex": f"t={now},v1={mac.upper()}",
        "short-mac": f"t={now},v1={mac[:-1]}",
        "wrong-secret": f"t={now},v1={other}",
        "nine-macs": f"t={now}," + ",".join([f"v1={mac}"] * 9),
        "eight-macs": f"t={now}," + ",".join([f"v1={other}"] * 7 + [f"v1={mac}"]),
        "stale": signature_header(BODY, [SECRET], now - 10 * TOLERANCE),
        "from-the-future": signature_header(BODY, [SECRET], now + 10 * TOLERANCE),
        "too-long": f"t={now},v1={mac}," + "v0=" + "x" * 1024,
        "tampered-body": signature_header(BODY + b" ", [SECRET], now),
    }


CASES = sorted(_headers())


@pytest.mark.parametrize("case", CASES)
def test_the_documented_verify_agrees_with_the_gateway(case: str):
    header = _headers()[case]

    assert documented_verify()(BODY, header, SECRET, TOLERANCE) is gateway_accepts(header)


def test_the_documented_verify_accepts_a_header_with_a_space_after_the_comma():
    now = int(time.time())

    assert documented_verify()(BODY, f"t={now}, v1={sign(BODY, SECRET, now)}", SECRET, TOLERANCE)


def test_the_documented_verify_refuses_a_header_without_t_instead_of_raising():
    header = f"v1={sign(BODY, SECRET, int(time.time()))}"

    assert documented_verify()(BODY, header, SECRET, TOLERANCE) is False
