"""Every transport hands its operations to the one pipeline, so a document is refused the same
way however it arrives: POST, GET or inside a batch."""

from __future__ import annotations

import pytest

from gateway.operations.request import Transport
from tests.helpers import Gateway, codes

DEEP = "{ me { orders { edges { node { lines { content { author { name } } } } } } } }"
ALIASED = "{ a: me { id } b: me { id } c: me { id } d: me { id } }"
INTROSPECTION = "{ __schema { types { name } } }"

REFUSED = [
    pytest.param({"max_depth": 3}, DEEP, "MAX_DEPTH_LIMIT", id="over-deep"),
    pytest.param({"max_aliases": 3}, ALIASED, "MAX_ALIASES_LIMIT", id="over-aliased"),
    pytest.param(
        {"persisted_only": True}, "{ me { id } }", "OPERATION_NOT_ALLOWED", id="not-persisted"
    ),
    pytest.param(
        {"introspection": False}, INTROSPECTION, "INTROSPECTION_DISABLED", id="introspection"
    ),
]


def spy_on_pipeline(gateway: Gateway) -> list[Transport]:
    """Record each call of the pipeline's one entry point, by transport."""
    pipeline = gateway.resources.pipeline
    run = pipeline.run
    transports: list[Transport] = []

    async def recording(call):
        transports.append(call.transport)
        return await run(call)

    pipeline.run = recording
    return transports


@pytest.mark.parametrize(("overrides", "query", "code"), REFUSED)
async def test_a_refused_document_reads_the_same_over_post_get_and_a_batch(
    make_gateway, overrides, query, code
):
    gateway = await make_gateway(batch_max_operations=5, **overrides)
    transports = spy_on_pipeline(gateway)

    posted, post_statements = await gateway.post({"query": query})
    got, get_statements = await gateway.get({"query": query})
    batch, batch_statements = await gateway.post([{"query": query}, {"query": query}])

    assert (posted.status_code, got.status_code, batch.status_code) == (400, 400, 200)
    assert codes(posted) == [code]
    assert got.json() == posted.json()
    assert batch.json() == [posted.json(), posted.json()]
    assert post_statements == get_statements == batch_statements == 0
    assert transports == [Transport.HTTP_POST, Transport.HTTP_GET, *[Transport.HTTP_POST] * 2]


async def test_an_allowed_document_executes_the_same_over_post_get_and_a_batch(make_gateway):
    gateway = await make_gateway(batch_max_operations=5)
    transports = spy_on_pipeline(gateway)

    posted, _ = await gateway.post({"query": "{ __typename }"})
    got, _ = await gateway.get({"query": "{ __typename }"})
    batch, _ = await gateway.post([{"query": "{ __typename }"}])

    assert posted.json()["data"] == got.json()["data"] == {"__typename": "Query"}
    assert batch.json()[0]["data"] == {"__typename": "Query"}
    assert transports == [Transport.HTTP_POST, Transport.HTTP_GET, Transport.HTTP_POST]
