"""Configuration from ``GATEWAY_*`` environment variables.

Defaults describe the embedded development setup (SQLite file, in-process cache, local token
issuer) so that ``make run`` needs nothing; ``GATEWAY_ENV=prod`` refuses to start unless the
shared services and real secrets are configured, because a replica silently running on a local
SQLite file is worse than one that does not start.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
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


#: A browser origin as CORS compares it: scheme, host and optional port, no path.
_ORIGIN = re.compile(r"https?://[^/\s?#,]+", re.IGNORECASE)
#: The named points of ``GATEWAY_TEST_CRASH_AT`` (``datasources.crashpoints``).
_CRASH_POINTS = frozenset({"after-order-written", "after-intent-created", "after-cancel-requested"})


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


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

    env: Environment = Field(
        default=Environment.DEV,
        description="`dev` or `prod`. `prod` refuses to start without PostgreSQL, Redis, an "
        "issuer with an https JWKS URL and a strong API key pepper, or with a placeholder "
        "database password or a placeholder or short (under 16 characters) secret; it turns "
        "GraphiQL, introspection and field suggestions off unless asked, and never activates "
        "the development issuer.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the embedded SQLite file (`manifold.sqlite3`), the development "
        "issuer's key (`dev-issuer-key.json`) and the development API key pepper "
        "(`api-key-pepper`) live.",
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. "
        "`postgresql+asyncpg://user:pass@host:5432/manifold`. Unset: an embedded SQLite file, "
        "`manifold.sqlite3` under `GATEWAY_DATA_DIR`. Required (PostgreSQL) in prod.",
    )
    database_pool_size: int = Field(
        default=32,
        ge=1,
        description="PostgreSQL connections kept in the pool, per process. Keep it at least "
        "GATEWAY_MAX_CONCURRENT_OPERATIONS (each operation reads through one connection at a "
        "time): a connection opened beyond it is closed again when returned, and opening one "
        "(and preparing its statements again) costs more than a small query. Workers times (pool "
        "size + overflow) must stay under the server's `max_connections`.",
    )
    database_max_overflow: int = Field(
        default=8,
        ge=0,
        description="PostgreSQL connections the pool may open beyond its size, per process, for "
        "bursts; past both, a request waits for a connection (GATEWAY_DATABASE_POOL_TIMEOUT_"
        "SECONDS).",
    )
    database_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long opening a PostgreSQL connection may take (asyncpg's connect "
        "timeout); a request's deadline bounds it more tightly.",
    )
    database_statement_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="PostgreSQL `statement_timeout` and asyncpg's `command_timeout` for the "
        "gateway's pool: the server cancels slower statements and the client gives up on a "
        "server that does not answer. Unset: the request timeout. Each request's queries are "
        "also bounded by what is left of its deadline (UPSTREAM_TIMEOUT).",
    )
    database_pool_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How long a query waits for a pooled connection before it fails with "
        "UPSTREAM_TIMEOUT.",
    )
    database_echo: bool = Field(
        default=False,
        description="Log every SQL statement (parameters stay hidden); for debugging only.",
    )

    redis_url: str | None = Field(
        default=None,
        description="`redis://host:6379/0`. Unset: an in-process cache. Required in prod.",
    )
    redis_prefix: str = Field(
        default="manifold:",
        description="Prefix of every Redis key, so deployments can share a Redis.",
    )

    oauth_issuer: str | None = Field(
        default=None,
        description="Expected `iss` of access tokens. Unset in dev: the local development "
        "issuer signs tokens. Required in prod.",
    )
    oauth_audience: str = Field(default="manifold", description="Expected `aud`.")
    oauth_jwks_url: str | None = Field(
        default=None, description="The identity provider's JWKS URL; https, and required, in prod."
    )
    oauth_algorithms: tuple[str, ...] = Field(
        default=(
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "ES256",
            "ES384",
            "Ed25519",
        ),
        description="Accepted signature algorithms (JSON list). Asymmetric only: `none` and "
        "`HS*` are refused outright.",
    )
    oauth_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="Clock skew allowed for `exp`, `nbf` and `iat`."
    )
    oauth_jwks_cooldown_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Minimum time between JWKS refetches triggered by unknown `kid`s.",
    )
    oauth_jwks_cache_seconds: float = Field(
        default=3600.0, gt=0, description="How long a fetched JWKS is trusted."
    )

    api_key_pepper: SecretStr | None = Field(
        default=None,
        description="Server secret for partner API keys: only an HMAC-SHA256 of each key's "
        "secret under it is stored, so changing it invalidates every key. Unset in dev: a "
        "random one kept in `api-key-pepper` under `GATEWAY_DATA_DIR` (mode 0600, written "
        f"atomically). Required in prod: at least {PEPPER_MIN_LENGTH} characters, "
        f"{PEPPER_MIN_DISTINCT} of them distinct (e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`).",
    )
    api_key_cache_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a key lookup stays in Redis (revocations are immediate "
        "regardless; without Redis, lookups are not cached).",
    )

    gc_threshold: int = Field(
        default=50_000,
        ge=0,
        description="The garbage collector's first-generation threshold in each worker (Python's "
        "default is 700, far too low for a server allocating thousands of objects per request); "
        "0 leaves Python's default.",
    )
    gc_freeze: bool = Field(
        default=True,
        description="Freeze what start-up built (modules, schema, caches) out of every garbage "
        "collection.",
    )
    compiled_execution: bool = Field(
        default=True,
        description="Execute queries with a plan compiled once per document (the same answers, "
        "less work per field); false: every operation runs on graphql-core's executor.",
    )
    rate_limit_enabled: bool = Field(default=True, description="Cost budgets on or off.")
    rate_limit_budget: int = Field(
        default=10_000,
        ge=1,
        description="Cost points per window per principal (a key's own budget overrides it).",
    )
    rate_limit_window_seconds: int = Field(
        default=3600, ge=1, description="The budget's sliding window."
    )
    cost_max_per_operation: int = Field(
        default=5_000,
        ge=1,
        description="Operations estimated above this are refused unexecuted "
        "(COST_ESTIMATED_TOO_EXPENSIVE).",
    )
    cost_default_first: int = Field(
        default=20,
        ge=1,
        description="`first` assumed when a list argument is absent and has no schema default.",
    )
    cost_mutation_base: int = Field(
        default=10, ge=0, description="A mutation's base cost, added to its selection's."
    )

    oauth_introspection_url: str | None = Field(
        default=None,
        description="RFC 7662 endpoint for opaque (non-JWT) bearer tokens; https in prod. "
        "Unset: an opaque bearer token is a 401.",
    )
    oauth_client_id: str | None = Field(
        default=None,
        description="The gateway's client id at the introspection endpoint (HTTP Basic).",
    )
    oauth_client_secret: SecretStr | None = Field(
        default=None, description="The gateway's client secret at the introspection endpoint."
    )
    oauth_introspection_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Cap on caching an active introspection answer (never past the token's `exp`).",
    )

    graphiql: bool | None = Field(
        default=None,
        description="GraphiQL for browsers at /graphql. Unset: on in dev, off in prod.",
    )
    graphiql_token: SecretStr | None = Field(
        default=None,
        description="A bearer token GraphiQL's Headers tab starts with, so the page opens signed "
        "in and its schema, Docs and checks show what that token may see; `gateway demo` sets "
        "it to the demo user's token. Development only: refused with GATEWAY_ENV=prod. The page "
        "then holds a credential, so it is served with `Cache-Control: no-store`.",
    )
    introspection: bool | None = Field(
        default=None,
        description="Answer `__schema` and `__type` (else INTROSPECTION_DISABLED). Unset: on in "
        "dev, off in prod.",
    )
    field_suggestions: bool | None = Field(
        default=None, description='"Did you mean …" hints. Unset: on in dev, off in prod.'
    )

    # Request protection (docs/security.md); defaults from graphql-armor and Apollo Router.
    max_body_bytes: int = Field(
        default=2_000_000,
        ge=1,
        description="Larger request bodies get 413, checked on Content-Length before reading "
        "and while streaming.",
    )
    csrf_prevention: bool = Field(
        default=True,
        description="Refuse operations a browser could send cross-site without a preflight, "
        "unless they carry an `apollo-require-preflight` or `x-apollo-operation-name` header.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Browser origins allowed to call /graphql: comma-separated "
        '(`https://app.example,https://admin.example`) or a JSON list (`["https://app.example"]`);'
        " each `scheme://host[:port]` without a path, or `*`.",
    )
    max_depth: int = Field(
        default=10,
        ge=1,
        description="Deepest field nesting, through fragments; introspection fields are "
        "exempt (MAX_DEPTH_LIMIT).",
    )
    max_aliases: int = Field(
        default=15,
        ge=0,
        description="Most aliases, counted through fragments once per spread (MAX_ALIASES_LIMIT).",
    )
    max_tokens: int = Field(
        default=1000,
        ge=1,
        description="Most tokens in a document; the parser stops there (MAX_TOKENS_LIMIT).",
    )
    max_directives: int = Field(
        default=50, ge=0, description="Most directives, through fragments (MAX_DIRECTIVES_LIMIT)."
    )
    max_root_fields: int = Field(
        default=20,
        ge=1,
        description="Most root fields per operation, through fragments (MAX_ROOT_FIELDS_LIMIT).",
    )
    max_validation_errors: int = Field(
        default=20,
        ge=1,
        description='Validation stops after this many errors ("Too many validation errors").',
    )
    limits_mode: LimitsMode = Field(
        default=LimitsMode.ENFORCE,
        description="`enforce` refuses documents over a shape limit (depth, aliases, tokens, "
        "directives, root fields); `measure` logs each violation (logger `manifold.limits`) "
        "and refuses nothing, to roll out a tighter limit.",
    )
    batch_max_operations: int = Field(
        default=0,
        ge=0,
        description="Most operations in one batch (a JSON array of operations); 0: batching off.",
    )
    apq_enabled: bool = Field(
        default=True, description="Automatic persisted queries (Apollo's APQ protocol)."
    )
    apq_ttl_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a registered APQ query is kept."
    )
    persisted_manifest: Path | None = Field(
        default=None,
        description='Trusted documents: a JSON object `{"<id>": "<document>"}` or Apollo\'s '
        "persisted-query manifest, read and validated once at start.",
    )
    persisted_only: bool = Field(
        default=False, description="Refuse documents not in the manifest (OPERATION_NOT_ALLOWED)."
    )
    persisted_bypass_scope: str = Field(
        default="operations:any",
        description="Callers holding this scope may send any document in persisted-only mode.",
    )
    federation: bool = Field(
        default=False,
        description="Serve Manifold as an Apollo Federation v2 subgraph: `_service { sdl }` and "
        '`_entities`, with `@key(fields: "id")` on User, Order and Content, resolved and '
        "authorized as `node(id:)` is (docs/federation.md). `_service` follows "
        "GATEWAY_INTROSPECTION.",
    )
    introspection_by_scope: bool = Field(
        default=True, description="Introspection shows only what the caller's scopes allow."
    )

    content_url: str | None = Field(
        default=None,
        description="Base URL of the content service. Unset: its fields fail with "
        "UPSTREAM_UNAVAILABLE (`make run` starts the sample service).",
    )
    recommendations_url: str | None = Field(
        default=None,
        description="Base URL of the recommendations service. Unset: its fields fail with "
        "UPSTREAM_UNAVAILABLE (`make run` starts the sample service).",
    )
    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Deadline of one HTTP request, a whole batch included: every backend call "
        "gets at most what is left of it; past it, the fields still waiting fail with "
        "UPSTREAM_TIMEOUT and everything already resolved is served.",
    )
    content_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        description="Read timeout per call to the content service (within the deadline).",
    )
    recommendations_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Read timeout per call to the recommendations service (within the deadline).",
    )
    upstream_connect_timeout_seconds: float = Field(
        default=1.0, gt=0, description="Connect timeout per call to a REST service."
    )
    upstream_pool_timeout_seconds: float = Field(
        default=1.0, gt=0, description="How long a call waits for a pooled connection."
    )
    upstream_max_connections: int = Field(
        default=50, ge=1, description="Connection pool size per REST service per process."
    )
    upstream_max_keepalive_connections: int = Field(
        default=20,
        ge=0,
        description="Whether idle connections to a REST service are kept alive: 0 closes "
        "each one after its exchange; any other value keeps idle connections (up to "
        "GATEWAY_UPSTREAM_MAX_CONNECTIONS) for 5 s.",
    )
    upstream_max_batch_size: int = Field(
        default=100,
        ge=1,
        description="Ids per upstream call; bigger batches are split into concurrent calls.",
    )
    upstream_max_response_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Larger answers are dropped while streaming, before they are all in memory "
        "(UPSTREAM_UNAVAILABLE).",
    )
    upstream_retry_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Tries per GET (retried only on connect errors and 429/502/503/504).",
    )
    upstream_retry_backoff_seconds: float = Field(
        default=0.05, ge=0, description="Base of the full-jitter exponential backoff."
    )
    upstream_breaker_failures: int = Field(
        default=5, ge=1, description="Failures within the window that open the breaker."
    )
    upstream_breaker_window_seconds: float = Field(
        default=10.0, gt=0, description="The window the breaker counts failures in."
    )
    upstream_breaker_open_seconds: float = Field(
        default=5.0, gt=0, description="Time an open breaker fails fast before one probe."
    )
    content_cache_ttl_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Content cache lifetime when the service sends no `Cache-Control: max-age`.",
    )
    content_cache_max_ttl_seconds: float = Field(
        default=3600.0, ge=0, description="Ceiling on the `max-age` the content service sends."
    )
    content_cache_negative_ttl_seconds: float = Field(
        default=5.0, ge=0, description="How long an unknown content id is remembered."
    )

    max_concurrent_operations: int = Field(
        default=32,
        ge=1,
        description="GraphQL requests executing at once per process; more wait in the queue. "
        "Size it near the process's saturation point (see `bench/README.md`).",
    )
    max_queued_operations: int = Field(
        default=64,
        ge=0,
        description="GraphQL requests allowed to wait for a free slot per process; beyond it "
        "a request is shed at once, before its body is read, with 503 UPSTREAM_UNAVAILABLE "
        "and `Retry-After`.",
    )
    queue_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Longest wait in the queue before a request is shed (503); the wait "
        "counts against the request's deadline either way.",
    )
    adaptive_concurrency: bool = Field(
        default=False,
        description="Adjust the concurrency limit between 1 and `GATEWAY_MAX_CONCURRENT_"
        "OPERATIONS` from observed latency (AIMD: grow while requests are fast, halve when "
        "latency doubles over its baseline).",
    )
    overload_retry_after_seconds: int = Field(
        default=1, ge=1, description="`Retry-After` of a shed request."
    )

    shutdown_delay_seconds: float = Field(
        default=5.0,
        ge=0,
        description="After SIGTERM, keep serving this long with `/readyz` answering 503 "
        "`draining`, so load balancers stop sending before the listener closes. SIGINT "
        "(Ctrl+C) skips it.",
    )
    shutdown_grace_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Then, how long in-flight requests may take to finish before they are "
        "cancelled and the process exits. Keep it above the request timeout.",
    )
    readiness_interval_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often readiness checks run in the background; `/readyz` answers "
        "from their last result at once.",
    )

    log_format: LogFormat | None = Field(
        default=None,
        description="`json` (one object per line) or `text`. Unset: json in prod, text in dev.",
    )
    log_level: str = Field(
        default="INFO",
        pattern=r"^(?i:debug|info|warning|error)$",
        description="Root log level: `debug` adds one line per upstream call.",
    )
    tracing_enabled: bool = Field(
        default=False,
        description="OpenTelemetry traces: a span per request, operation, pipeline step, "
        "dataloader batch, SQL statement and upstream call, exported over OTLP/HTTP.",
    )
    tracing_otlp_endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces",
        description="The OTLP/HTTP traces endpoint (a collector's `/v1/traces`).",
    )
    tracing_service_name: str = Field(
        default="manifold-gateway", description="`service.name` of the exported spans."
    )
    tracing_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded; a sampled `traceparent` from the client is "
        "always followed (parent-based sampling).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve `/metrics` on this port instead of the main one (which then "
        "answers 404). One worker per process group: refused with `--workers` above 1.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Interface of the metrics port (`0.0.0.0` in a container).",
    )

    ca_certificates: Path | None = Field(
        default=None,
        description="Extra trusted CA certificates (a PEM file, or a directory of them) for "
        "the identity provider, token introspection and every REST upstream, on top of "
        "certifi's bundle and `SSL_CERT_FILE` / `SSL_CERT_DIR`.",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description='Addresses or networks (JSON list, e.g. `["10.0.0.0/8"]`) of the load '
        "balancers whose `X-Forwarded-For` / `X-Forwarded-Proto` decide the client address. "
        "Empty: no forwarded header is trusted. `*` (refused in prod) trusts every peer.",
    )

    payments_url: str | None = Field(
        default=None,
        description="Base URL of the payment provider. Unset: placeOrder fails with "
        "UPSTREAM_UNAVAILABLE before anything is written (`make run` starts the sample "
        "provider).",
    )
    payments_api_key: SecretStr | None = Field(
        default=None,
        description="The gateway's secret API key at the payment provider, sent as a bearer "
        "token. Unset: no Authorization header (the sample provider needs none).",
    )
    payments_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Read timeout per call to the payment provider (within the deadline).",
    )
    payments_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The secret the provider signs `/webhooks/payments` with (HMAC-SHA256). "
        "Unset: every webhook is refused (401). Required in prod.",
    )
    payments_webhook_previous_secret: SecretStr | None = Field(
        default=None,
        description="While rotating: the secret being replaced, still accepted beside "
        "`GATEWAY_PAYMENTS_WEBHOOK_SECRET` until the provider signs with the new one only.",
    )
    payments_webhook_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How far a webhook's signed timestamp may be from now (either way); older "
        "or newer ones are refused as replays.",
    )
    idempotency_ttl_seconds: int = Field(
        default=86_400,
        ge=86_400,
        description="How long an idempotency key is remembered after its first use (at least "
        "24 h); a retry within it is answered as the first request was.",
    )
    idempotency_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a retry waits for the first request with its key still running, "
        "before IDEMPOTENCY_KEY_IN_USE (409, `Retry-After`); never more than half of what is "
        "left of the request's deadline.",
    )
    idempotency_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a running request holds its key before another may take it over "
        "(after a crash); must exceed `GATEWAY_REQUEST_TIMEOUT_SECONDS`.",
    )
    payments_recovery_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A placed order whose payment never reached the provider (its request "
        "crashed, nobody retried) is resumed by the gateway after this long.",
    )
    outbox_publisher: bool = Field(
        default=True,
        description="Publish order events from the outbox in this process (every replica may: "
        "each claims different rows). Off: only other processes publish.",
    )
    outbox_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the publisher looks for events written by other processes; its "
        "own are published at once.",
    )
    events_stream_max_length: int = Field(
        default=100_000,
        ge=100,
        description="About how many order events the Redis stream keeps for subscribers to "
        "replay (older ones are trimmed).",
    )
    # Subscriptions (docs/subscriptions.md): WebSocket (graphql-transport-ws) and SSE.
    subscription_max_connections: int = Field(
        default=1000,
        ge=0,
        description="Most WebSocket connections and SSE streams one process holds open; one "
        "more WebSocket is closed with 1013 (try again later), one more SSE stream gets 503. 0 "
        "turns both transports off.",
    )
    subscription_max_per_connection: int = Field(
        default=20,
        ge=1,
        description="Most subscriptions running at once on one WebSocket connection; one more "
        "is refused with an `error` message (RATE_LIMITED) and nothing executed.",
    )
    subscription_max_per_principal: int = Field(
        default=100,
        ge=1,
        description="Most subscriptions one caller (a user, a partner key; anonymous callers "
        "by address) runs at once on one process, over every connection and SSE stream.",
    )
    subscription_queue_size: int = Field(
        default=100,
        ge=1,
        description="Events a subscriber may fall behind before it is a slow consumer and "
        "disconnected (WebSocket 1008, SSE stream ended), never buffered without bound.",
    )
    subscription_send_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest one message may wait to be written to a client that does not "
        "read; past it the client is a slow consumer and disconnected.",
    )
    subscription_keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often an idle WebSocket gets a `ping` message and an SSE stream a "
        "comment line, so proxies and NATs keep them open.",
    )
    subscription_recheck_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a connection authenticated by an API key (or an opaque token) "
        "checks it again: a key revoked while connected is closed (4403) within this, plus "
        "the revocation's own delay. Bearer JWTs are closed (4401) at their `exp`.",
    )
    subscription_broker_outage_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long the event broker (Redis) may be unreadable while subscriptions "
        "wait for it to come back (resuming where they were); past it every subscription is "
        "told (an UPSTREAM_UNAVAILABLE error, then complete).",
    )
    websocket_init_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a WebSocket may stay open without `connection_init` before it "
        "is closed with 4408.",
    )
    websocket_max_message_bytes: int = Field(
        default=65_536,
        ge=256,
        description="Largest WebSocket message a client may send; a larger one closes the "
        "connection with 1009.",
    )
    websocket_messages_per_second: float = Field(
        default=20.0,
        gt=0,
        description="Sustained rate of client messages one WebSocket may send; a flood past "
        "it (and GATEWAY_WEBSOCKET_MESSAGE_BURST) closes it with 4429, the flooding message "
        "not executed.",
    )
    websocket_message_burst: int = Field(
        default=40,
        ge=1,
        description="Client messages a WebSocket may send at once above the sustained rate.",
    )
    test_crash_at: str | None = Field(
        default=None,
        description="TEST ONLY: the process kills itself (SIGKILL) at this point of an order's "
        "placement or cancellation (`after-order-written`, `after-intent-created`, "
        "`after-cancel-requested`), to prove crash recovery. Refused in prod.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _read_origins(cls, value: Any) -> tuple[str, ...]:
        """A comma-separated list or a JSON list, each entry an origin: a value that reads as
        neither is refused in one line rather than silently allowing nothing."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError(
                        "is neither a JSON list of origins nor comma-separated origins "
                        "(e.g. https://app.example,https://admin.example)"
                    ) from None
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of origins such as https://app.example")
        origins = tuple(origin.strip() for origin in value)
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port], without a path "
                    "or a trailing slash"
                )
        return origins

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
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.JSON if self.is_prod else LogFormat.TEXT

    @property
    def statement_timeout_seconds(self) -> float:
        return self.database_statement_timeout_seconds or self.request_timeout_seconds

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
        if self.graphiql_token is not None:
            problems.append("GATEWAY_GRAPHIQL_TOKEN is for development only: unset it")
        problems.extend(_weak_secrets(self))
        if "*" in self.trusted_proxies:
            problems.append(
                "GATEWAY_TRUSTED_PROXIES must list the load balancers' addresses, not `*`"
            )
        problems.extend(self._unsafe_order_settings())
        if problems:
            raise ValueError("refusing to start with GATEWAY_ENV=prod: " + "; ".join(problems))
        return self

    def _unsafe_order_settings(self) -> list[str]:
        problems = []
        if self.payments_webhook_secret is None:
            problems.append("GATEWAY_PAYMENTS_WEBHOOK_SECRET must be set")
        if self.test_crash_at is not None:
            problems.append("GATEWAY_TEST_CRASH_AT is for tests only")
        return problems

    @model_validator(mode="after")
    def _idempotency_outlives_requests(self) -> Self:
        """A lease shorter than a request would let a retry take over a request still running."""
        if self.idempotency_lease_seconds <= self.request_timeout_seconds:
            raise ValueError(
                "GATEWAY_IDEMPOTENCY_LEASE_SECONDS must exceed GATEWAY_REQUEST_TIMEOUT_SECONDS"
            )
        if self.test_crash_at is not None and self.test_crash_at not in _CRASH_POINTS:
            raise ValueError(
                "GATEWAY_TEST_CRASH_AT must be one of " + ", ".join(sorted(_CRASH_POINTS))
            )
        return self


def _weak_secrets(settings: Settings) -> list[str]:
    """Secrets holding a placeholder or a short value (the GraphiQL token is refused outright)."""
    return [
        f"GATEWAY_{name.upper()} holds a placeholder or short value"
        for name, value in settings
        if name != "graphiql_token"
        and isinstance(value, SecretStr)
        and (
            value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS
            or len(value.get_secret_value()) < 16
        )
    ]


def _strong_pepper(pepper: str) -> bool:
    return len(pepper) >= PEPPER_MIN_LENGTH and len(set(pepper)) >= PEPPER_MIN_DISTINCT


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment (the CLI's entry point)."""
    return Settings()
