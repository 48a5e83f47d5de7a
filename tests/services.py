"""Skip or fail when a server the test needs is missing.

A developer's machine may have neither PostgreSQL nor Redis: those tests skip with the reason.
CI sets ``GATEWAY_TEST_REQUIRE_SERVICES=1`` so that a missing service fails loudly instead of
turning the suite green by skipping it.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def services_required() -> bool:
    return os.environ.get("GATEWAY_TEST_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def require_or_skip(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(f"{reason} (required: GATEWAY_TEST_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(reason)


def closed_loopback_port() -> int:
    """A port nothing listens on: bound once to learn a free number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
