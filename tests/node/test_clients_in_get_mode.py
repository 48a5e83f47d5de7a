"""Clients that work unmodified: urql's persisted-queries exchange and graphql-request, both in
their GET modes, with a bearer token and no CSRF preflight header (the GET carries no cookie,
so it cannot be a forgery)."""

from __future__ import annotations

from tests.node.conftest import NodeHarness
from tests.processes import RunningProcess


def test_urql_persisted_gets_and_graphql_request_gets_are_served(
    node_harness: NodeHarness,
    gateway_process: RunningProcess,
    user_token: str,
    first_user_name: str,
):
    report = node_harness.run(
        "clients.mjs",
        MANIFOLD_GRAPHQL_URL=gateway_process.base_url + "/graphql",
        MANIFOLD_TOKEN=user_token,
        MANIFOLD_EXPECTED_NAME=first_user_name,
    )

    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert failed == [], report
    assert report["ok"] is True, report
    assert [request["status"] for request in report["requests"]["urql"]] == [400, 200, 200]
