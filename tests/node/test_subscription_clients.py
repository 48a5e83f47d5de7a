"""Subscriptions with the npm clients applications use, unmodified, against a real gateway
process: ``graphql-ws`` (over the ``ws`` package), urql's subscription exchange over it, and
``graphql-sse`` in its distinct connections mode. A customer watches one of their orders, a
mutation cancels it, and the event arrives; a refused credential is refused before anything
runs (docs/subscriptions.md has the codes). See scripts/subscriptions.mjs and
scripts/refused-credential.mjs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node.conftest import NodeHarness, PendingOrder
from tests.processes import RunningProcess


def _passed(report: dict[str, Any]) -> None:
    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert failed == [], report
    assert report["ok"] is True, report


@pytest.mark.parametrize("client", ["graphql-ws", "urql", "graphql-sse"])
def test_the_client_receives_the_event_of_the_order_it_watches(
    client: str,
    node_harness: NodeHarness,
    gateway_process: RunningProcess,
    pending_order: PendingOrder,
    order_owner_token: str,
):
    report = node_harness.run(
        "subscriptions.mjs",
        MANIFOLD_BASE_URL=gateway_process.base_url,
        MANIFOLD_TOKEN=order_owner_token,
        MANIFOLD_ORDER_ID=pending_order.id,
        MANIFOLD_CLIENT=client,
    )

    _passed(report)
    assert report["event"]["orderId"] == pending_order.id
    assert report["event"]["status"] == "CANCELLED"


def test_a_refused_credential_closes_the_socket_with_4403_before_any_subscription(
    node_harness: NodeHarness, gateway_process: RunningProcess
):
    report = node_harness.run(
        "refused-credential.mjs",
        MANIFOLD_BASE_URL=gateway_process.base_url,
        MANIFOLD_TRANSPORT="websocket",
    )

    _passed(report)
    assert report["bearer"]["closeCode"] == 4403
    assert report["apiKey"]["closeCode"] == 4403


def test_a_refused_credential_is_answered_401_over_sse(
    node_harness: NodeHarness, gateway_process: RunningProcess
):
    report = node_harness.run(
        "refused-credential.mjs",
        MANIFOLD_BASE_URL=gateway_process.base_url,
        MANIFOLD_TRANSPORT="sse",
    )

    _passed(report)
    assert report["stream"]["status"] == 401
