"""Everything a running gateway holds open, created in the lifespan and closed with it."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import certifi
import httpx

from auth.credentials import Authenticator
from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.jwks import KeySource, RemoteJwksSource
from auth.tokens import TokenValidator
from datasources.cache import Cache, create_cache
from datasources.db import Database, create_engine
from datasources.loaders import Backends
from gateway.metrics import Metrics
from gateway.settings import Settings
from gateway.upstreams import Upstreams, open_upstreams
from schema import ManifoldSchema, build_schema

logger = logging.getLogger("manifold")


@dataclass(slots=True)
class Resources:
    settings: Settings
    metrics: Metrics
    schema: ManifoldSchema
    database: Database
    cache: Cache
    upstreams: Upstreams
    backends: Backends
    authenticator: Authenticator
    key_source: KeySource
    dev_issuer: DevIssuer | None


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
        yield Resources(
            settings=settings,
            metrics=metrics,
            schema=build_schema(
                suggestions=settings.field_suggestions_enabled,
                introspection=settings.introspection_enabled,
                max_validation_errors=settings.max_validation_errors,
            ),
            database=database,
            cache=cache,
            upstreams=upstreams,
            backends=Backends(
                database=database,
                content=upstreams.content,
                recommendations=upstreams.recommendations,
                metrics=metrics.datasources,
            ),
            authenticator=Authenticator(validator=validator),
            key_source=key_source,
            dev_issuer=dev_issuer,
        )
