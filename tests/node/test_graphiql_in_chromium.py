"""GraphiQL in a real browser (Debian's Chromium, headless, driven by playwright-core) with
every request outside the gateway blocked: the page loads from the gateway alone, starts signed
in, runs the first query and shows its result, quickly (scripts/graphiql.mjs); and runs a
subscription over a WebSocket and shows its event (scripts/graphiql-subscription.mjs)."""

from __future__ import annotations

from tests.node.conftest import NodeHarness, PendingOrder
from tests.processes import RunningProcess

#: Loopback budget for the page to load cold (assets parsed, schema fetched) and for one query
#: (the script measures again, up to three times, when one run is over it; every figure is in
#: the report, printed with -s).
BUDGET_MS = 1000


def test_graphiql_renders_runs_a_query_and_shows_the_result_offline(
    node_harness: NodeHarness,
    chromium: str,
    demo_gateway_process: tuple[RunningProcess, str],
    first_user_name: str,
):
    process, token = demo_gateway_process

    report = node_harness.run(
        "graphiql.mjs",
        MANIFOLD_BASE_URL=process.base_url,
        MANIFOLD_TOKEN=token,
        MANIFOLD_EXPECTED_NAME=first_user_name,
        MANIFOLD_CHROMIUM=chromium,
    )
    print(
        f"GraphiQL loads (ms): {report.get('loadTimes')}, queries (ms): {report.get('queryTimes')}"
    )

    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert failed == [], report
    assert report["ok"] is True, report
    assert report["loadedMs"] < BUDGET_MS, report["loadTimes"]
    assert report["queryMs"] < BUDGET_MS, report["queryTimes"]


def test_graphiql_runs_a_subscription_and_shows_its_event(
    node_harness: NodeHarness,
    chromium: str,
    gateway_process: RunningProcess,
    pending_order: PendingOrder,
    order_owner_token: str,
):
    report = node_harness.run(
        "graphiql-subscription.mjs",
        MANIFOLD_BASE_URL=gateway_process.base_url,
        MANIFOLD_TOKEN=order_owner_token,
        MANIFOLD_ORDER_ID=pending_order.id,
        MANIFOLD_CHROMIUM=chromium,
    )

    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert failed == [], report
    assert report["ok"] is True, report
    assert report["event"]["type"] == "ORDER_CANCELLED"
