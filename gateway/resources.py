"""Everything a running gateway holds open, created in the lifespan and closed with it."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import certifi
import httpx

from auth.api_keys import ApiKeys
from auth.credentials import Authenticator
from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.introspection import TokenIntrospector
from auth.jwks import KeySource, RemoteJwksSource
from auth.key_material import load_pepper
from auth.tokens import TokenValidator
from datasources.cache import Cache, create_cache
from datasources.db import Database, create_engine
from datasources.loaders import Backends
from datasources.migrate import head_revision
from gateway.budget_extension import CostBudgetExtension
from gateway.cost import CostModel
from gateway.metrics import Metrics
from gateway.rate_limit import Budgets
from gateway.settings import Settings
from gateway.upstreams import open_upstreams
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
    #: The migration this build expects; readiness compares the database against it.
    schema_revision: str


def _identity(
    settings: Settings, client: httpx.AsyncClient
) -> tuple[KeySource, str, tuple[str, ...], DevIssuer | None]:
    if settings.uses_dev_issuer:
        issuer = DevIssuer.load_or_create(settings.data_dir)
        return issuer.key_source(), DEV_ISSUER, ("RS256",), issuer
    if settings.oauth_issuer is None or settings.oauth_jwks_url is None:
        raise RuntimeError("GATEWAY_OAUTH_ISSUER and GATEWAY_OAUTH_JWKS_URL must be set together")
    source = RemoteJwksSource(
        client=client,
        url=settings.oauth_jwks_url,
        cache_seconds=settings.oauth_jwks_cache_seconds,
        cooldown_seconds=settings.oauth_jwks_cooldown_seconds,
    )
    return source, settings.oauth_issuer, settings.oauth_algorithms, None


@asynccontextmanager
async def open_resources(
    settings: Settings, *, database: Database | None = None, metrics: Metrics | None = None
) -> AsyncIterator[Resources]:
    """Open connections for one app; a ``database`` passed in is borrowed, not closed."""
    metrics = metrics or Metrics()
    async with AsyncExitStack() as stack:
        if database is None:
            database = Database(
                create_engine(
                    settings.resolved_database_url,
                    pool_size=settings.database_pool_size,
                    max_overflow=settings.database_max_overflow,
                    echo=settings.database_echo,
                )
            )
            stack.push_async_callback(database.dispose)
        stack.callback(metrics.datasources.count_statements(database.engine))

        cache = create_cache(settings.redis_url, prefix=settings.redis_prefix)
        stack.push_async_callback(cache.close)

        tls = ssl.create_default_context(cafile=certifi.where())
        upstreams = await stack.enter_async_context(
            open_upstreams(settings, cache=cache, metrics=metrics.datasources, tls=tls)
        )

        http = httpx.AsyncClient(
            verify=tls,
            timeout=httpx.Timeout(5.0, connect=2.0),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
        )
        await stack.enter_async_context(http)
        key_source, issuer, algorithms, dev_issuer = _identity(settings, http)
        if isinstance(key_source, RemoteJwksSource):
            try:
                await key_source.refresh()
            except Exception:  # readiness reports it; a cold IdP must not block start-up
                logger.warning("could not load signing keys at start-up; /readyz will say so")

        validator = TokenValidator(
            key_source=key_source,
            issuer=issuer,
            audience=settings.oauth_audience,
            algorithms=algorithms,
            leeway_seconds=settings.oauth_leeway_seconds,
        )
        api_keys = ApiKeys(
            database=database,
            cache=cache if settings.redis_url else None,  # a per-process cache misses revocations
            pepper=load_pepper(
                settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None,
                settings.data_dir,
            ),
            cache_seconds=settings.api_key_cache_seconds,
        )
        budgets = _budgets(settings)
        if budgets is not None:
            stack.push_async_callback(budgets.close)
        yield Resources(
            settings=settings,
            metrics=metrics,
            schema=build_schema(
                suggestions=settings.field_suggestions_enabled,
                introspection=settings.introspection_enabled,
                max_validation_errors=settings.max_validation_errors,
                # Prices and charges each operation; refused ones never execute.
                extensions=[CostBudgetExtension],
            ),
            database=database,
            cache=cache,
            backends=Backends(
                database=database,
                content=upstreams.content,
                recommendations=upstreams.recommendations,
                metrics=metrics.datasources,
            ),
            authenticator=Authenticator(
                validator=validator,
                api_keys=api_keys,
                introspector=_introspector(settings, http, cache),
            ),
            key_source=key_source,
            dev_issuer=dev_issuer,
            schema_revision=head_revision(),
            api_keys=api_keys,
            budgets=budgets,
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
