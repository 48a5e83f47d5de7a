"""The Starlette app factory: one call builds a complete, independent gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from opentelemetry.sdk.trace import SpanProcessor
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from datasources.db import Database
from gateway.demand.concurrency import AdaptiveLimit, ConcurrencyLimiter
from gateway.http import health
from gateway.http.admission import AdmissionMiddleware
from gateway.http.graphiql import ASSETS_PATH
from gateway.http.media_types import request_asks_event_stream
from gateway.http.request_id import RequestIdMiddleware
from gateway.http.view import GraphQLView
from gateway.observability.metrics import Metrics
from gateway.runtime.gc_tuning import tune_gc
from gateway.runtime.resources import open_resources
from gateway.runtime.shutdown import process_shutdown
from gateway.settings import Settings
from gateway.subscriptions.service import SubscriptionService
from gateway.subscriptions.sse import sse_endpoint
from gateway.subscriptions.websocket import websocket_endpoint
from gateway.webhooks.payments import payments_webhook

#: Request headers a browser page on an allowed origin may send (CORS preflight answers).
CORS_ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "X-Request-ID",
    "Idempotency-Key",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)


class _GraphQLEndpoint:
    """Defers to the view built in the lifespan, so routes exist before resources do; a
    request accepting ``text/event-stream`` is a GraphQL-over-SSE stream."""

    def __init__(self, *, streams: bool) -> None:
        self.streams = streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.streams and request_asks_event_stream(scope):
            await sse_endpoint(scope, receive, send)
            return
        view: GraphQLView = scope["app"].state.graphql_view
        await view(scope, receive, send)


async def _graphiql_asset(request: Request) -> Response:
    """GraphiQL's files, from the package; the URL carries their hash, so they never change."""
    page = request.app.state.graphql_view.graphiql
    asset = None if page is None else page.asset(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(
        asset.content,
        media_type=asset.media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _routes(*, streams: bool) -> list[BaseRoute]:
    # Every method reaches the view, which refuses all but GET and POST with a JSON 405.
    routes: list[BaseRoute] = [Route("/graphql", _GraphQLEndpoint(streams=streams), methods=None)]
    if streams:  # GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS=0: no WebSocket route at all
        routes.append(WebSocketRoute("/graphql", websocket_endpoint))
    return [
        *routes,
        Route(ASSETS_PATH + "/{name}", _graphiql_asset, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/.well-known/jwks.json", health.dev_jwks, methods=["GET"]),
        Route(
            "/webhooks/payments",
            payments_webhook,
            # Every method reaches the handler, which answers all but POST with a JSON 405.
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
        ),
    ]


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    span_processor: SpanProcessor | None = None,
    tune_gc_at_start: bool = False,
) -> Starlette:
    """Build a gateway; pass ``database`` to share a connection the caller owns (tests), and
    ``span_processor`` to collect its spans in place of the OTLP exporter (tests).

    ``tune_gc_at_start`` applies the garbage-collector settings to the whole process: the
    server's entry point asks for it, tests and embedders (several apps per process) do not.
    """
    metrics = Metrics()
    limiter = ConcurrencyLimiter(
        limit=settings.max_concurrent_operations,
        max_queue=settings.max_queued_operations,
        adaptive=(
            AdaptiveLimit(maximum=settings.max_concurrent_operations)
            if settings.adaptive_concurrency
            else None
        ),
    )
    metrics.concurrency_limit.set(limiter.limit)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_resources(
            settings, database=database, metrics=metrics, span_processor=span_processor
        ) as resources:
            app.state.resources = resources
            app.state.tracer = resources.tracing.tracer
            app.state.graphql_view = GraphQLView(
                settings=settings,
                pipeline=resources.pipeline,
                authenticator=resources.authenticator,
            )
            subscriptions = SubscriptionService(
                settings=settings,
                pipeline=resources.pipeline,
                authenticator=resources.authenticator,
                fanout=resources.fanout,
                metrics=metrics.subscriptions,
                shutdown=process_shutdown(),
            )
            app.state.subscriptions = subscriptions
            if streams:
                await subscriptions.start()
            if tune_gc_at_start:
                tune_gc(freeze=settings.gc_freeze, threshold=settings.gc_threshold)
            try:
                yield
            finally:
                await subscriptions.close()

    streams = settings.subscription_max_connections > 0
    routes = _routes(streams=streams)
    # Metrics label requests by route: the known paths, never a raw path a client could vary.
    known_paths = frozenset(route.path for route in routes if isinstance(route, Route))
    return Starlette(
        routes=routes,
        middleware=[
            # Outermost: a shed request costs no request id, log line or span, only a count.
            Middleware(
                AdmissionMiddleware,
                limiter=limiter,
                metrics=metrics,
                shutdown=process_shutdown(),
                request_timeout_seconds=settings.request_timeout_seconds,
                queue_timeout_seconds=settings.queue_timeout_seconds,
                retry_after_seconds=settings.overload_retry_after_seconds,
            ),
            Middleware(RequestIdMiddleware, metrics=metrics, routes=known_paths),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=list(CORS_ALLOWED_HEADERS),
                # Browser clients read their budget and when to retry, like any other client.
                expose_headers=[
                    "X-Request-ID",
                    "RateLimit-Limit",
                    "RateLimit-Remaining",
                    "RateLimit-Reset",
                    "Retry-After",
                    "Idempotent-Replayed",
                ],
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
