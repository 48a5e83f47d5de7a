"""Prometheus: operation durations labelled by name only for trusted documents (bounded
cardinality), errors by code, process metrics, and /metrics on a port of its own when asked."""

from __future__ import annotations

import json

import httpx

from tests.helpers import JSON_HEADERS

NAMED = "query ClientChosenName { __typename }"


async def metrics_text(gateway) -> str:
    text: str = (await gateway.http.get("/metrics")).text
    return text


async def test_an_ad_hoc_operation_is_labelled_adhoc_never_by_its_client_chosen_name(gateway):
    await gateway.execute(NAMED)

    text = await metrics_text(gateway)

    assert 'manifold_operation_duration_seconds_count{operation="adhoc",type="query"} 1.0' in text
    assert "ClientChosenName" not in text


async def test_a_trusted_document_is_labelled_by_its_operation_name(make_gateway, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"typename-v1": "query Typename { __typename }"}))
    gateway = await make_gateway(persisted_manifest=manifest)

    await gateway.post({"documentId": "typename-v1"})

    text = await metrics_text(gateway)
    assert (
        'manifold_operation_duration_seconds_count{operation="Typename",type="query"} 1.0' in text
    )


async def test_errors_are_counted_by_code(gateway):
    await gateway.execute("{ nope }")
    await gateway.execute('{ node(id: "not-a-global-id") { id } }')

    text = await metrics_text(gateway)

    assert 'manifold_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1.0' in text
    assert 'manifold_graphql_errors_total{code="BAD_USER_INPUT"} 1.0' in text


async def test_process_metrics_are_on_the_apps_registry(gateway):
    text = await metrics_text(gateway)

    for name in ("process_resident_memory_bytes", "process_open_fds", "python_info"):
        assert name in text


async def test_metrics_served_on_their_own_port_and_404_on_the_main_one(make_gateway):
    from tests.private_servers import free_port  # noqa: PLC0415

    port = free_port()
    gateway = await make_gateway(metrics_port=port)
    await gateway.post({"query": "{ __typename }"}, headers=JSON_HEADERS)

    main = await gateway.http.get("/metrics")
    async with httpx.AsyncClient() as client:
        separate = await client.get(f"http://127.0.0.1:{port}/metrics")

    assert main.status_code == 404
    assert separate.status_code == 200
    assert "manifold_operation_duration_seconds" in separate.text
