"""GraphiQL in a real browser (Debian's Chromium, headless, driven by playwright-core) with
every request outside the gateway blocked: the page loads from the gateway alone, starts signed
in, runs the first query and shows its result, quickly; see scripts/graphiql.mjs."""

from __future__ import annotations

from tests.node.conftest import NodeHarness
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
