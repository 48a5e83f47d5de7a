"""OpenTelemetry: a Q3-like query is one trace whose operation span holds the pipeline steps,
the dataloader batches, their SQL statements and REST calls; ``traceparent`` is read from the
client and sent upstream; spans reach a real OTLP/HTTP receiver; tracing off is one shared no-op."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from datasources.tracing import current_tracer, span
from demo.serve import serving
from tests.factories import make_order, make_user

Q3 = """{ me { name orders(first: 3) { edges { node { number
  lines { quantity content { title } } } } } } }"""
CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


async def test_a_q3_query_is_one_trace_with_sql_batches_and_rest_calls_as_children(
    make_gateway, exporter, connection
):
    gateway = await make_gateway(tracing_enabled=True, span_processor=SimpleSpanProcessor(exporter))
    user = await make_user(connection)
    await make_order(connection, user, lines=[(21, 1, Decimal("5.00")), (22, 2, Decimal("1.50"))])

    response = await gateway.execute(
        Q3,
        token=gateway.token(user.subject, "users:read", "orders:read"),
        headers={"traceparent": TRACEPARENT},
    )

    assert response.errors == []
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    names = [s.name for s in spans]
    assert {s.context.trace_id for s in spans} == {int(CLIENT_TRACE, 16)}

    def ancestors(item: Any) -> Iterator[str]:
        while item.parent is not None and item.parent.span_id in by_id:
            item = by_id[item.parent.span_id]
            yield item.name

    operation = next(s for s in spans if s.name == "query")
    assert "POST /graphql" in list(ancestors(operation))
    for step in ("parse", "authenticate", "validate", "charge", "execute"):
        assert step in names
    sql = [s for s in spans if s.name == "SELECT"]
    rest = [s for s in spans if s.name == "GET /content?ids"]
    assert sql
    assert rest
    for child in (*sql, *rest):
        lineage = list(ancestors(child))
        assert any(name.startswith("dataloader ") for name in lineage)
        assert "query" in lineage


async def test_the_upstream_receives_the_traceparent_of_its_call_span(make_gateway, exporter):
    received: list[str | None] = []

    async def content(request: Request) -> Response:
        received.append(request.headers.get("traceparent"))
        return JSONResponse({"items": []})

    upstream = Starlette(routes=[Route("/content", content)])
    with serving(upstream) as url:
        gateway = await make_gateway(
            tracing_enabled=True, span_processor=SimpleSpanProcessor(exporter), content_url=url
        )
        await gateway.execute(
            '{ content(id: "Q29udGVudDo5MDAx") { title } }', headers={"traceparent": TRACEPARENT}
        )

    call = next(s for s in exporter.get_finished_spans() if s.name == "GET /content?ids")
    assert received == [f"00-{CLIENT_TRACE}-{call.context.span_id:016x}-01"]


async def test_with_tracing_off_the_clients_traceparent_is_forwarded_unchanged(make_gateway):
    received: list[str | None] = []

    async def content(request: Request) -> Response:
        received.append(request.headers.get("traceparent"))
        return JSONResponse({"items": []})

    with serving(Starlette(routes=[Route("/content", content)])) as url:
        gateway = await make_gateway(content_url=url)
        await gateway.execute(
            '{ content(id: "Q29udGVudDo5MDAy") { title } }', headers={"traceparent": TRACEPARENT}
        )

    assert received == [TRACEPARENT]


async def test_spans_reach_a_real_otlp_http_receiver(make_gateway):
    spans: list[str] = []

    async def traces(request: Request) -> Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.body())
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                spans.extend(item.name for item in scope.spans)
        return Response(status_code=200)

    with serving(Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])) as url:
        gateway = await make_gateway(tracing_enabled=True, tracing_otlp_endpoint=f"{url}/v1/traces")
        await gateway.execute("{ __typename }")
        gateway.resources.tracing.provider.force_flush()
        for _ in range(50):
            if "POST /graphql" in spans:
                break
            await asyncio.sleep(0.05)

    assert "POST /graphql" in spans
    assert "query" in spans


def test_a_span_with_tracing_off_is_one_shared_no_op():
    """With no tracer set, every step gets the same stateless context manager back: nothing
    is allocated or recorded, whatever the name or attributes (the cost is in bench/, not
    timed here)."""
    first = span("parse")
    second = span("execute", attributes={"graphql.operation.type": "query"})

    assert first is second
    with first as value:
        assert value is None
    assert current_tracer() is None
