"""The demo upstream services, run on loopback for the whole session and steered per test.

Tests reach them over real HTTP, exactly as the gateway does in production; faults and request
counters are set and read through the services' own ``/_faults`` and ``/_stats`` endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from demo import content, payments, recommendations
from demo.serve import serving


@dataclass
class UpstreamService:
    name: str
    base_url: str
    _client: httpx.Client = field(init=False, repr=False)
    #: Whether a test changed the faults, so only those tests pay for a reset.
    _faulted: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        # One kept-alive connection: a new client per call costs an SSL context each time.
        self._client = httpx.Client(base_url=self.base_url, timeout=5.0)

    def close(self) -> None:
        self._client.close()

    def set_faults(self, **faults: Any) -> None:
        """Replace the service's faults (``hang``, ``error_rate``, ``latency_ms``, …)."""
        self._faulted = True
        self._client.put("/_faults", json=faults).raise_for_status()

    def requests(self) -> int:
        """API requests the service has received so far; tests compare two readings."""
        response = self._client.get("/_stats")
        response.raise_for_status()
        return int(response.json()["requests"])

    def clear_faults(self) -> None:
        if self._faulted:
            self._client.put("/_faults", json={}).raise_for_status()
            self._faulted = False


@dataclass
class PaymentsService(UpstreamService):
    """The demo payment provider, with its own controls: delivery faults, pace, webhook."""

    _changed: set[str] = field(default_factory=set, init=False, repr=False)

    def _put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self._changed.add(path)
        response = self._client.put(path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def set_delivery(self, **faults: Any) -> None:
        """Duplicated, out-of-order, delayed or lost deliveries (``demo.payments_delivery``)."""
        self._put("/_delivery", faults)

    def set_pace(self, **pace: Any) -> None:
        """How fast intents move and how often they are declined (``demo.payments_ledger``)."""
        self._put("/_pace", pace)

    def set_webhook(self, url: str | None, *secrets: str) -> None:
        self._put("/_webhook", {"url": url, "secrets": list(secrets)})

    def deliveries(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._client.get("/_deliveries").json()
        return answer

    def intents(self, reference: str | None = None) -> list[dict[str, Any]]:
        params = {} if reference is None else {"reference": reference}
        answer = self._client.get("/v1/payment_intents", params=params).json()
        found: list[dict[str, Any]] = answer["data"]
        return found

    def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._client.get("/v1/events").json()["data"]
        return found

    def clear_faults(self) -> None:
        super().clear_faults()
        defaults: dict[str, dict[str, Any]] = {
            "/_delivery": {},
            "/_pace": {},
            "/_webhook": {"url": None, "secrets": []},
        }
        for path in sorted(self._changed):
            self._client.put(path, json=defaults[path]).raise_for_status()
        self._changed.clear()


@contextmanager
def running_upstreams() -> Iterator[tuple[UpstreamService, UpstreamService, PaymentsService]]:
    with ExitStack() as stack:
        content_url = stack.enter_context(serving(content.create_app()))
        recommendations_url = stack.enter_context(serving(recommendations.create_app()))
        payments_url = stack.enter_context(serving(payments.create_app()))
        services = (
            UpstreamService("content", content_url),
            UpstreamService("recommendations", recommendations_url),
            PaymentsService("payments", payments_url),
        )
        for service in services:
            stack.callback(service.close)
        yield services


@contextmanager
def running_tls(app: Any, certificate: Any) -> Iterator[str]:
    """``app`` over TLS on loopback with a ``trustme`` leaf ``certificate``; yields its URL."""
    with (
        certificate.private_key_and_cert_chain_pem.tempfile() as pem,
        serving(app, ssl_certfile=pem, ssl_keyfile=pem) as url,
    ):
        yield url
