"""Turning settings into the objects both the app and the CLI use, written once.

The app opens them in its lifespan (``resources``); ``gateway keys …`` and ``gateway db …``
open the same ones for one command, so a key made by the CLI is hashed, cached and revoked
exactly as the gateway checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from auth.api_keys import ApiKeys
from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.jwks import KeySource, RemoteJwksSource
from auth.key_material import load_pepper
from auth.tokens import TokenValidator
from datasources.cache import Cache
from datasources.db import Database, DatabaseTimeouts, create_engine
from gateway.settings import Settings

#: The identity provider's JWKS and introspection endpoints answer in well under a second.
IDENTITY_TIMEOUT_SECONDS = 5.0
IDENTITY_CONNECT_TIMEOUT_SECONDS = 2.0


def build_database(settings: Settings, *, pooled: bool = True) -> Database:
    """The app's pooled engine, or a small one for a CLI command that makes a few queries."""
    if not pooled:
        # Migrations and seeding may run long: only the connect is bounded.
        timeouts = DatabaseTimeouts(connect_seconds=settings.database_connect_timeout_seconds)
        return Database(
            create_engine(
                settings.resolved_database_url, pool_size=1, max_overflow=1, timeouts=timeouts
            )
        )
    return Database(
        create_engine(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            echo=settings.database_echo,
            timeouts=DatabaseTimeouts(
                connect_seconds=settings.database_connect_timeout_seconds,
                statement_seconds=settings.statement_timeout_seconds,
                pool_seconds=settings.database_pool_timeout_seconds,
            ),
        )
    )


def build_api_keys(settings: Settings, database: Database, cache: Cache) -> ApiKeys:
    return ApiKeys(
        database=database,
        # Without Redis the cache is per process, and a per-process cache would miss
        # revocations made by the CLI or another worker: such lookups go to the database.
        cache=cache if settings.redis_url else None,
        pepper=load_pepper(
            settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None,
            settings.data_dir,
        ),
        cache_seconds=settings.api_key_cache_seconds,
    )


def identity_client(settings: Settings, *, verify: object = True) -> httpx.AsyncClient:
    """The client for the identity provider (JWKS, token introspection)."""
    return httpx.AsyncClient(
        verify=verify,  # type: ignore[arg-type]
        timeout=httpx.Timeout(IDENTITY_TIMEOUT_SECONDS, connect=IDENTITY_CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
    )


@dataclass(frozen=True, slots=True)
class Identity:
    """Whose tokens this gateway accepts, and where their signing keys come from."""

    key_source: KeySource
    issuer: str
    algorithms: tuple[str, ...]
    #: The local development issuer, when it is the one signing tokens.
    dev_issuer: DevIssuer | None = None

    def validator(self, settings: Settings) -> TokenValidator:
        return TokenValidator(
            key_source=self.key_source,
            issuer=self.issuer,
            audience=settings.oauth_audience,
            algorithms=self.algorithms,
            leeway_seconds=settings.oauth_leeway_seconds,
        )


def build_identity(settings: Settings, client: httpx.AsyncClient) -> Identity:
    if settings.uses_dev_issuer:
        issuer = DevIssuer.load_or_create(settings.data_dir)
        return Identity(issuer.key_source(), DEV_ISSUER, ("RS256",), issuer)
    if settings.oauth_issuer is None or settings.oauth_jwks_url is None:
        raise RuntimeError("GATEWAY_OAUTH_ISSUER and GATEWAY_OAUTH_JWKS_URL must be set together")
    source = RemoteJwksSource(
        client=client,
        url=settings.oauth_jwks_url,
        cache_seconds=settings.oauth_jwks_cache_seconds,
        cooldown_seconds=settings.oauth_jwks_cooldown_seconds,
    )
    return Identity(source, settings.oauth_issuer, settings.oauth_algorithms)
