"""Opening the REST upstreams from settings: one pooled client and breaker per service."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from datasources.cache import Cache
from datasources.content import CachePolicy, ContentSource
from datasources.instrumentation import DatasourceMetrics
from datasources.payment_provider import PaymentProvider
from datasources.recommendations import RecommendationsSource
from datasources.resilience import BreakerPolicy, RetryPolicy
from datasources.upstream import Upstream, UpstreamConfig
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class Upstreams:
    content: ContentSource
    recommendations: RecommendationsSource
    payments: PaymentProvider


def upstream_config(settings: Settings, name: str, url: str | None, read: float) -> UpstreamConfig:
    return UpstreamConfig(
        name=name,
        base_url=url,
        connect_timeout=settings.upstream_connect_timeout_seconds,
        read_timeout=read,
        pool_timeout=settings.upstream_pool_timeout_seconds,
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=settings.upstream_max_keepalive_connections,
        max_response_bytes=settings.upstream_max_response_bytes,
        retry=RetryPolicy(
            attempts=settings.upstream_retry_attempts,
            base_seconds=settings.upstream_retry_backoff_seconds,
        ),
        breaker=BreakerPolicy(
            failure_threshold=settings.upstream_breaker_failures,
            window_seconds=settings.upstream_breaker_window_seconds,
            open_seconds=settings.upstream_breaker_open_seconds,
        ),
    )


@asynccontextmanager
async def open_upstreams(
    settings: Settings,
    *,
    cache: Cache,
    metrics: DatasourceMetrics,
    tls: ssl.SSLContext,
) -> AsyncIterator[Upstreams]:
    """``tls`` is shared by every client of the app: building one costs tens of milliseconds."""
    content = Upstream(
        upstream_config(
            settings, "content", settings.content_url, settings.content_timeout_seconds
        ),
        metrics=metrics,
        tls=tls,
    )
    recommendations = Upstream(
        upstream_config(
            settings,
            "recommendations",
            settings.recommendations_url,
            settings.recommendations_timeout_seconds,
        ),
        metrics=metrics,
        tls=tls,
    )
    payments = Upstream(
        upstream_config(
            settings, "payments", settings.payments_url, settings.payments_timeout_seconds
        ),
        metrics=metrics,
        tls=tls,
    )
    api_key = settings.payments_api_key
    try:
        yield Upstreams(
            content=ContentSource(
                content,
                cache,
                metrics,
                policy=CachePolicy(
                    ttl_seconds=settings.content_cache_ttl_seconds,
                    max_ttl_seconds=settings.content_cache_max_ttl_seconds,
                    negative_ttl_seconds=settings.content_cache_negative_ttl_seconds,
                ),
                max_batch_size=settings.upstream_max_batch_size,
            ),
            recommendations=RecommendationsSource(
                recommendations, max_batch_size=settings.upstream_max_batch_size
            ),
            payments=PaymentProvider(
                payments, api_key=None if api_key is None else api_key.get_secret_value()
            ),
        )
    finally:
        await content.aclose()
        await recommendations.aclose()
        await payments.aclose()
