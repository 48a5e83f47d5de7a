"""The GraphQL-over-HTTP spec's compliance suite (npm ``graphql-http``'s ``serverAudits``)
against a real gateway process: every MUST and every SHOULD passes."""

from __future__ import annotations

from tests.node.conftest import NodeHarness
from tests.processes import RunningProcess


def test_every_must_and_should_audit_passes(
    node_harness: NodeHarness, gateway_process: RunningProcess
):
    report = node_harness.run(
        "audit.mjs", MANIFOLD_GRAPHQL_URL=gateway_process.base_url + "/graphql"
    )
    print(f"graphql-http serverAudits: {report.get('counts')}")  # shown with -s

    assert report["failures"] == [], report
    assert report["counts"]["MUST"] == {"total": 13, "passed": 13}
    assert report["counts"]["SHOULD"] == {"total": 23, "passed": 23}
    assert report["exit_code"] == 0
