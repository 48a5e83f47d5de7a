"""Manifold inside a supergraph, with real npm tooling: its ``_service { sdl }`` composed with a
second subgraph (reviews, scripts/reviews-subgraph.mjs) by ``@theguild/federation-composition``,
and queries joining the two through Hive Gateway's runtime (``@graphql-hive/gateway-runtime``),
with the caller's token forwarded and authorization left to Manifold."""

from __future__ import annotations

import json

from tests.node.conftest import NodeHarness
from tests.processes import RunningProcess


def test_a_supergraph_composed_with_manifold_joins_both_ways_through_hive_gateway(
    node_harness: NodeHarness,
    federated_gateway_process: RunningProcess,
    user_token: str,
    user_names: dict[str, str],
):
    report = node_harness.run(
        "federation.mjs",
        MANIFOLD_GRAPHQL_URL=federated_gateway_process.base_url + "/graphql",
        MANIFOLD_TOKEN=user_token,
        MANIFOLD_USER_NAMES=json.dumps(user_names),
    )

    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert failed == [], report
    assert report["ok"] is True, report
