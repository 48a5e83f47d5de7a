"""Unexpected failures are masked with the request id; contract errors pass through."""

from __future__ import annotations

import logging

from tests.helpers import codes


async def crash(*_args, **_kwargs):
    raise RuntimeError("connection to db.internal.example:5432 refused")


async def test_a_crash_before_execution_is_masked_as_a_500_with_the_request_id(gateway, caplog):
    # A step of the pipeline that fails unexpectedly, before anything executes.
    gateway.app.state.resources.pipeline.demand.charge = crash

    with caplog.at_level(logging.ERROR, logger="manifold.errors"):
        response, _ = await gateway.post({"query": "{ me { id } }"})

    assert response.status_code == 500
    assert codes(response) == ["INTERNAL_SERVER_ERROR"]
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "db.internal" not in response.text
    assert any(record.exc_info for record in caplog.records)


async def test_an_unreachable_cache_degrades_apq_to_a_miss(make_gateway):
    gateway = await make_gateway(redis_url="redis://127.0.0.1:1/0")
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}

    response, statements = await gateway.post({"extensions": extensions})

    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert statements == 0
