"""Configuration from ``GATEWAY_*`` environment variables.

Defaults describe the embedded development setup (SQLite file, in-process cache, local token
issuer) so that ``make run`` needs nothing; ``GATEWAY_ENV=prod`` refuses to start unless the
shared services and real secrets are configured, because a replica silently running on a local
SQLite file is worse than one that does not start.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

#: A production pepper's floor: long, and not one character repeated (``aaaa…``).
PEPPER_MIN_LENGTH = 32
PEPPER_MIN_DISTINCT = 10

_PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "dev",
        "development",
        "password",
        "postgres",
        "manifold",
    }
)


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class LimitsMode(StrEnum):
    ENFORCE = "enforce"
    MEASURE = "measure"  # log violations, reject nothing: for rolling out a tighter limit


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_file=None,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # a refusal must not print the database password or pepper
    )

    env: Environment = Environment.DEV
    data_dir: Path = Path(".data")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db. "
        "Unset: an embedded SQLite file under data_dir.",
    )
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_echo: bool = False

    redis_url: str | None = Field(
        default=None, description="redis://host:port/db. Unset: an in-process cache."
    )
    redis_prefix: str = Field(
        default="manifold:", description="Prefix of every key, so gateways can share a Redis."
    )

    oauth_issuer: str | None = Field(
        default=None, description="Expected `iss`. Unset in dev: the local development issuer."
    )
    oauth_audience: str = "manifold"
    oauth_jwks_url: str | None = None
    oauth_algorithms: tuple[str, ...] = (
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "ES256",
        "ES384",
        "Ed25519",
    )
    oauth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    oauth_jwks_cooldown_seconds: float = Field(default=30.0, ge=0)
    oauth_jwks_cache_seconds: float = Field(default=3600.0, gt=0)

    api_key_pepper: SecretStr | None = Field(
        default=None,
        description="Server-side pepper for hashing partner API key secrets; in prod at least "
        f"{PEPPER_MIN_LENGTH} characters, {PEPPER_MIN_DISTINCT} of them distinct.",
    )
    api_key_cache_seconds: float = Field(
        default=60.0, gt=0, description="How long a key lookup stays in the shared cache."
    )

    rate_limit_enabled: bool = True
    rate_limit_budget: int = Field(
        default=10_000,
        ge=1,
        description="Cost points per window per principal (keys may override).",
    )
    rate_limit_window_seconds: int = Field(default=3600, ge=1)
    cost_max_per_operation: int = Field(
        default=5_000, ge=1, description="Operations estimated above this are refused unexecuted."
    )
    cost_default_first: int = Field(
        default=20, ge=1, description="`first` assumed for a list argument without a default."
    )
    cost_mutation_base: int = Field(default=10, ge=0)

    oauth_introspection_url: str | None = Field(
        default=None, description="RFC 7662 endpoint for opaque (non-JWT) bearer tokens."
    )
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_introspection_cache_seconds: float = Field(default=60.0, ge=0)

    graphiql: bool | None = Field(default=None, description="Unset: on in dev, off in prod.")
    introspection: bool | None = Field(default=None, description="Unset: on in dev, off in prod.")
    field_suggestions: bool | None = Field(
        default=None, description='"Did you mean …" hints. Unset: on in dev, off in prod.'
    )

    # Request protection (README "Security"); defaults from graphql-armor and Apollo Router.
    max_body_bytes: int = Field(default=2_000_000, ge=1, description="Larger bodies get 413.")
    csrf_prevention: bool = Field(
        default=True, description="Refuse operations a browser could send cross-site unflighted."
    )
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Origins allowed to call /graphql from a browser (JSON list)."
    )
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=1000, ge=1)
    max_directives: int = Field(default=50, ge=0)
    max_root_fields: int = Field(default=20, ge=1)
    max_validation_errors: int = Field(default=20, ge=1)
    limits_mode: LimitsMode = LimitsMode.ENFORCE
    batch_max_operations: int = Field(default=0, ge=0, description="0: batching off.")
    apq_enabled: bool = True
    apq_ttl_seconds: float = Field(default=86_400.0, gt=0)
    persisted_manifest: Path | None = Field(
        default=None, description="Trusted documents: JSON id -> document, or Apollo's manifest."
    )
    persisted_only: bool = Field(
        default=False, description="Refuse documents not in the manifest (OPERATION_NOT_ALLOWED)."
    )
    persisted_bypass_scope: str = Field(
        default="operations:any", description="Holders may send any document in persisted-only."
    )
    introspection_by_scope: bool = Field(
        default=True, description="Introspection shows only what the caller's scopes allow."
    )

    content_url: str | None = Field(
        default=None, description="Base URL of the content service; unset: content is unavailable."
    )
    recommendations_url: str | None = Field(
        default=None, description="Base URL of the recommendations service."
    )
    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Deadline of one GraphQL request: backend calls past it fail with "
        "UPSTREAM_TIMEOUT and everything already resolved is served.",
    )
    content_timeout_seconds: float = Field(default=2.0, gt=0, description="Read timeout.")
    recommendations_timeout_seconds: float = Field(default=1.0, gt=0, description="Read timeout.")
    upstream_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    upstream_pool_timeout_seconds: float = Field(default=1.0, gt=0)
    upstream_max_connections: int = Field(default=50, ge=1)
    upstream_max_keepalive_connections: int = Field(default=20, ge=0)
    upstream_max_batch_size: int = Field(default=100, ge=1, description="Ids per upstream call.")
    upstream_max_response_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    upstream_retry_attempts: int = Field(default=3, ge=1, le=10, description="Tries per GET.")
    upstream_retry_backoff_seconds: float = Field(default=0.05, ge=0)
    upstream_breaker_failures: int = Field(
        default=5, ge=1, description="Failures within the window that open the breaker."
    )
    upstream_breaker_window_seconds: float = Field(default=10.0, gt=0)
    upstream_breaker_open_seconds: float = Field(
        default=5.0, gt=0, description="Time an open breaker fails fast before one probe."
    )
    content_cache_ttl_seconds: float = Field(
        default=60.0, ge=0, description="When the upstream sends no Cache-Control max-age."
    )
    content_cache_max_ttl_seconds: float = Field(default=3600.0, ge=0)
    content_cache_negative_ttl_seconds: float = Field(
        default=5.0, ge=0, description="How long an unknown content id is remembered."
    )

    @property
    def is_prod(self) -> bool:
        return self.env is Environment.PROD

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_prod

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_prod

    @property
    def field_suggestions_enabled(self) -> bool:
        return self.field_suggestions if self.field_suggestions is not None else not self.is_prod

    @property
    def uses_dev_issuer(self) -> bool:
        """The local issuer signs tokens only in dev and only when no real issuer is set."""
        return not self.is_prod and self.oauth_issuer is None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'manifold.sqlite3').as_posix()}"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if not self.is_prod:
            return self
        problems: list[str] = []
        if not self.database_url or not self.database_url.startswith("postgresql"):
            problems.append("GATEWAY_DATABASE_URL must name a PostgreSQL database")
        elif (make_url(self.database_url).password or "").lower() in _PLACEHOLDER_SECRETS - {""}:
            problems.append("GATEWAY_DATABASE_URL uses a placeholder password")
        if not self.redis_url:
            problems.append("GATEWAY_REDIS_URL must be set")
        if not self.oauth_issuer or not self.oauth_jwks_url:
            problems.append("GATEWAY_OAUTH_ISSUER and GATEWAY_OAUTH_JWKS_URL must be set")
        if self.oauth_jwks_url and not self.oauth_jwks_url.startswith("https://"):
            problems.append("GATEWAY_OAUTH_JWKS_URL must use https")
        if self.api_key_pepper is None:
            problems.append("GATEWAY_API_KEY_PEPPER must be set")
        elif not _strong_pepper(self.api_key_pepper.get_secret_value()):
            # Names the rule, never the value.
            problems.append(
                f"GATEWAY_API_KEY_PEPPER must be at least {PEPPER_MIN_LENGTH} characters with at "
                f"least {PEPPER_MIN_DISTINCT} distinct ones (for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if self.oauth_introspection_url is not None and (
            not self.oauth_introspection_url.startswith("https://")
            or not self.oauth_client_id
            or self.oauth_client_secret is None
        ):
            problems.append(
                "GATEWAY_OAUTH_INTROSPECTION_URL must use https, with GATEWAY_OAUTH_CLIENT_ID "
                "and GATEWAY_OAUTH_CLIENT_SECRET"
            )
        for name, value in self:
            if isinstance(value, SecretStr) and (
                value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS
                or len(value.get_secret_value()) < 16
            ):
                problems.append(f"GATEWAY_{name.upper()} holds a placeholder or short value")
        if problems:
            raise ValueError("refusing to start with GATEWAY_ENV=prod: " + "; ".join(problems))
        return self


def _strong_pepper(pepper: str) -> bool:
    return len(pepper) >= PEPPER_MIN_LENGTH and len(set(pepper)) >= PEPPER_MIN_DISTINCT


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment (the CLI's entry point)."""
    return Settings()
