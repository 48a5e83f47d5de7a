"""Everything a running gateway holds, created in the lifespan and closed with it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from opentelemetry.sdk.trace import SpanProcessor

from auth.api_keys import ApiKeys
from auth.credentials import Authenticator
from auth.dev_issuer import DevIssuer
from auth.introspection import TokenIntrospector
from auth.jwks import KeySource, RemoteJwksSource
from datasources.cache import Cache, create_cache
from datasources.crashpoints import CrashPoint, CrashPoints
from datasources.db import Database
from datasources.event_fanout import EventFanout
from datasources.events import EventBroker, create_events
from datasources.idempotency import IdempotencyPolicy, IdempotencyStore, IdempotentRequests
from datasources.loaders import Backends
from datasources.migrate import head_revision
from datasources.outbox import OutboxPublisher
from datasources.tracing import trace_statements
from datasources.write_backends import WriteBackends
from gateway.demand.budgets import Budgets
from gateway.demand.charge import Demand
from gateway.demand.cost import CostModel
from gateway.observability.metrics import Metrics
from gateway.observability.metrics_server import serving_metrics
from gateway.observability.tracing import Tracing
from gateway.operations.documents import Validator
from gateway.operations.introspection import ScopedIntrospection
from gateway.operations.limits import ShapeLimits
from gateway.operations.persisted import ApqStore, TrustedDocuments
from gateway.operations.pipeline import OperationPipeline, PersistedPolicy
from gateway.runtime.background import every, housekeeping, running
from gateway.runtime.readiness import Readiness
from gateway.runtime.shutdown import process_shutdown
from gateway.runtime.tls import trust_store
from gateway.runtime.upstreams import Upstreams, open_upstreams
from gateway.runtime.wiring import build_api_keys, build_database, build_identity, identity_client
from gateway.settings import Settings
from schema import ManifoldSchema, build_schema
from schema.rate_limit import FREE_TYPES

logger = logging.getLogger("manifold")


@dataclass(slots=True)
class Resources:
    settings: Settings
    metrics: Metrics
    schema: ManifoldSchema
    database: Database
    cache: Cache
    backends: Backends
    authenticator: Authenticator
    key_source: KeySource
    dev_issuer: DevIssuer | None
    api_keys: ApiKeys
    budgets: Budgets | None
    #: The one pipeline every transport hands its operations to.
    pipeline: OperationPipeline
    #: The migration this build expects; readiness compares the database against it.
    schema_revision: str
    readiness: Readiness
    tracing: Tracing
    #: What orders, payments and profiles are written with.
    writes: WriteBackends
    #: Where order events are published (and subscribed to).
    events: EventBroker
    #: The process's one reader of ``events``, fanned out to its subscribers (started by the
    #: subscription transports).
    fanout: EventFanout


@asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    database: Database | None = None,
    metrics: Metrics | None = None,
    span_processor: SpanProcessor | None = None,
) -> AsyncIterator[Resources]:
    """Open connections for one app; a ``database`` passed in is borrowed, not closed.

    ``span_processor`` replaces the OTLP exporter when tracing is on (tests).
    """
    metrics = metrics or Metrics()
    async with AsyncExitStack() as stack:
        tls = trust_store(settings.ca_certificates)  # first: a bad CA path refuses at once
        tracing = Tracing.from_settings(settings, processor=span_processor)
        stack.callback(tracing.shutdown)
        if database is None:
            database = build_database(settings)
            stack.push_async_callback(database.dispose)
        stack.callback(metrics.datasources.count_statements(database.engine))
        if tracing.tracer is not None:
            stack.callback(trace_statements(database.engine))

        cache = create_cache(settings.redis_url, prefix=settings.redis_prefix)
        stack.push_async_callback(cache.close)

        upstreams = await stack.enter_async_context(
            open_upstreams(settings, cache=cache, metrics=metrics.datasources, tls=tls)
        )
        http = await stack.enter_async_context(identity_client(settings, verify=tls))
        identity = build_identity(settings, http)
        if isinstance(identity.key_source, RemoteJwksSource):
            try:
                await identity.key_source.refresh()
            except Exception:  # readiness reports it; a cold IdP must not block start-up
                logger.warning("could not load signing keys at start-up; /readyz will say so")

        api_keys = build_api_keys(settings, database, cache)
        budgets = _budgets(settings)
        if budgets is not None:
            stack.push_async_callback(budgets.close)
        schema = build_schema(
            suggestions=settings.field_suggestions_enabled,
            introspection=settings.introspection_enabled,
            federation=settings.federation,
        )
        backends = Backends(
            database=database,
            content=upstreams.content,
            recommendations=upstreams.recommendations,
            metrics=metrics.datasources,
        )
        readiness = Readiness(
            database=database,
            cache=cache,
            key_source=identity.key_source,
            backends=backends,
            schema_revision=head_revision(),
            shutdown=process_shutdown(),
            interval_seconds=settings.readiness_interval_seconds,
        )
        await readiness.start()
        stack.push_async_callback(readiness.close)
        if settings.metrics_port is not None:
            stack.enter_context(
                serving_metrics(
                    metrics.registry, host=settings.metrics_host, port=settings.metrics_port
                )
            )
        events = create_events(
            settings.redis_url,
            prefix=settings.redis_prefix,
            max_length=settings.events_stream_max_length,
        )
        stack.push_async_callback(events.close)
        fanout = EventFanout(
            events,
            queue_size=settings.subscription_queue_size,
            outage_grace_seconds=settings.subscription_broker_outage_seconds,
        )
        stack.push_async_callback(fanout.close)
        publisher = OutboxPublisher(database, events, poll_seconds=settings.outbox_poll_seconds)
        writes = build_writes(settings, database, upstreams, publisher)
        jobs = [every(60.0, lambda: housekeeping(writes), "order housekeeping")]
        if settings.outbox_publisher:
            jobs.append(publisher.run())
        await stack.enter_async_context(running(*jobs))
        yield Resources(
            settings=settings,
            metrics=metrics,
            schema=schema,
            database=database,
            cache=cache,
            backends=backends,
            authenticator=Authenticator(
                validator=identity.validator(settings),
                api_keys=api_keys,
                introspector=_introspector(settings, http, cache),
            ),
            key_source=identity.key_source,
            dev_issuer=identity.dev_issuer,
            api_keys=api_keys,
            budgets=budgets,
            pipeline=build_pipeline(
                settings,
                schema=schema,
                backends=backends,
                cache=cache,
                budgets=budgets,
                api_keys=api_keys,
                metrics=metrics,
                writes=writes,
                events=fanout,
            ),
            schema_revision=head_revision(),
            readiness=readiness,
            tracing=tracing,
            writes=writes,
            events=events,
            fanout=fanout,
        )


def build_writes(
    settings: Settings, database: Database, upstreams: Upstreams, publisher: OutboxPublisher
) -> WriteBackends:
    store = IdempotencyStore(
        database,
        IdempotencyPolicy(
            ttl_seconds=settings.idempotency_ttl_seconds,
            lease_seconds=settings.idempotency_lease_seconds,
            wait_seconds=settings.idempotency_wait_seconds,
        ),
    )
    crash = None if settings.test_crash_at is None else CrashPoint(settings.test_crash_at)
    return WriteBackends(
        database=database,
        content=upstreams.content,
        payments=upstreams.payments,
        idempotency=IdempotentRequests(store),
        events_written=publisher.wake if settings.outbox_publisher else lambda: None,
        crash=CrashPoints(crash),
        stalled_after_seconds=settings.payments_recovery_seconds,
    )


def build_pipeline(
    settings: Settings,
    *,
    schema: ManifoldSchema,
    backends: Backends,
    cache: Cache,
    budgets: Budgets | None,
    api_keys: ApiKeys | None,
    metrics: Metrics | None = None,
    writes: WriteBackends | None = None,
    events: EventFanout | None = None,
) -> OperationPipeline:
    validator = Validator(
        schema._schema,
        schema.validation_rules,
        max_errors=settings.max_validation_errors,
        suggestions=settings.field_suggestions_enabled,
    )
    return OperationPipeline(
        schema=schema,
        backends=backends,
        shape_limits=ShapeLimits.from_settings(settings),
        validator=validator,
        # Parsed and validated once, here: a manifest with an invalid document refuses to start.
        trusted=TrustedDocuments.load(settings.persisted_manifest, validator=validator),
        apq=ApqStore(cache, ttl_seconds=settings.apq_ttl_seconds) if settings.apq_enabled else None,
        introspection=(
            ScopedIntrospection(schema, max_errors=settings.max_validation_errors)
            if settings.introspection_enabled and settings.introspection_by_scope
            else None
        ),
        demand=Demand(budgets),
        persisted=PersistedPolicy(
            only=settings.persisted_only, bypass_scope=settings.persisted_bypass_scope
        ),
        api_keys=api_keys,
        compiled=settings.compiled_execution,
        count_execution=metrics.count_execution if metrics is not None else None,
        writes=writes,
        events=events,
    )


def _budgets(settings: Settings) -> Budgets | None:
    if not settings.rate_limit_enabled:
        return None
    return Budgets(
        redis_url=settings.redis_url,
        prefix=settings.redis_prefix,
        default_budget=settings.rate_limit_budget,
        window_seconds=settings.rate_limit_window_seconds,
        max_cost=settings.cost_max_per_operation,
        model=CostModel(
            default_first=settings.cost_default_first,
            mutation_base=settings.cost_mutation_base,
            free_types=FREE_TYPES,
        ),
    )


def _introspector(
    settings: Settings, client: httpx.AsyncClient, cache: Cache
) -> TokenIntrospector | None:
    if settings.oauth_introspection_url is None:
        return None
    if not settings.oauth_client_id or settings.oauth_client_secret is None:
        raise RuntimeError(
            "GATEWAY_OAUTH_INTROSPECTION_URL needs GATEWAY_OAUTH_CLIENT_ID and "
            "GATEWAY_OAUTH_CLIENT_SECRET"
        )
    return TokenIntrospector(
        client=client,
        url=settings.oauth_introspection_url,
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret.get_secret_value(),
        cache=cache,
        audience=settings.oauth_audience,
        issuer=settings.oauth_issuer,
        cache_seconds=settings.oauth_introspection_cache_seconds,
    )
