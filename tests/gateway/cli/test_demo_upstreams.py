"""``gateway demo`` starts the three sample services and wires the provider's webhooks back."""

from __future__ import annotations

import os
from contextlib import ExitStack

import httpx

from gateway.cli import _demo_upstreams
from gateway.settings import Settings

WIRED = ("CONTENT_URL", "RECOMMENDATIONS_URL", "PAYMENTS_URL", "PAYMENTS_WEBHOOK_SECRET")


def forget_wiring(monkeypatch) -> None:
    """The demo writes its URLs into the environment: undone after the test."""
    for name in WIRED:
        monkeypatch.delenv(f"GATEWAY_{name}", raising=False)


def test_the_demo_starts_the_payment_provider_calling_this_gateway_back(tmp_path, monkeypatch):
    forget_wiring(monkeypatch)
    with ExitStack() as stack:
        content, recommendations, payments = _demo_upstreams(
            Settings(data_dir=tmp_path), stack, host="0.0.0.0", port=8123
        )
        webhook = httpx.get(payments + "/_webhook").json()
        healthy = [
            httpx.get(url + "/healthz").status_code for url in (content, recommendations, payments)
        ]

        assert healthy == [200, 200, 200]
        assert webhook == {"url": "http://127.0.0.1:8123/webhooks/payments", "secrets": 1}
        assert os.environ["GATEWAY_PAYMENTS_URL"] == payments
        assert len(os.environ["GATEWAY_PAYMENTS_WEBHOOK_SECRET"]) >= 16


def test_a_configured_webhook_secret_is_the_one_the_demo_provider_signs_with(tmp_path, monkeypatch):
    forget_wiring(monkeypatch)
    with ExitStack() as stack:
        _demo_upstreams(
            Settings(data_dir=tmp_path, payments_webhook_secret="whsec-mine-0123456789"),
            stack,
            host="127.0.0.1",
            port=8124,
        )

        assert os.environ["GATEWAY_PAYMENTS_WEBHOOK_SECRET"] == "whsec-mine-0123456789"
