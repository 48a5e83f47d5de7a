"""Specifications of configuration: ``GATEWAY_ENV=prod`` refuses to start half-configured."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.settings import Environment, LimitsMode, Settings

PROD: dict[str, Any] = {
    "env": "prod",
    "database_url": "postgresql+asyncpg://gateway@db.internal:5432/manifold",
    "redis_url": "redis://cache.internal:6379/0",
    "oauth_issuer": "https://idp.example.com/",
    "oauth_jwks_url": "https://idp.example.com/.well-known/jwks.json",
    "api_key_pepper": "k3y-pepper-that-is-long-and-random",
    "payments_webhook_secret": "whsec-7Hq2pX9vLm4Rt8Kw",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Only what a test sets itself is read: no GATEWAY_* leaks in from the shell."""
    for name in list(os.environ):
        if name.upper().startswith("GATEWAY_"):
            monkeypatch.delenv(name)


def prod(**changes: Any) -> Settings:
    return Settings(**{**PROD, **changes})


def test_a_complete_production_configuration_is_accepted():
    settings = prod()

    assert settings.is_prod
    assert settings.env is Environment.PROD


def test_production_refuses_a_missing_database_url():
    with pytest.raises(ValidationError, match="GATEWAY_DATABASE_URL must name a PostgreSQL"):
        prod(database_url=None)


def test_production_refuses_a_sqlite_database_url():
    with pytest.raises(ValidationError, match="GATEWAY_DATABASE_URL must name a PostgreSQL"):
        prod(database_url="sqlite+aiosqlite:///data/manifold.sqlite3")


def test_production_refuses_a_missing_redis_url():
    with pytest.raises(ValidationError, match="GATEWAY_REDIS_URL must be set"):
        prod(redis_url=None)


def test_production_refuses_a_missing_issuer():
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_ISSUER and GATEWAY_OAUTH_JWKS_URL"):
        prod(oauth_issuer=None)


def test_production_refuses_a_missing_jwks_url():
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_ISSUER and GATEWAY_OAUTH_JWKS_URL"):
        prod(oauth_jwks_url=None)


def test_production_refuses_a_plain_http_jwks_url():
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_JWKS_URL must use https"):
        prod(oauth_jwks_url="http://idp.example.com/.well-known/jwks.json")


@pytest.mark.parametrize("pepper", ["changeme", "CHANGEME", " secret ", "short-but-real"])
def test_production_refuses_a_placeholder_or_short_api_key_pepper(pepper):
    with pytest.raises(ValidationError, match="GATEWAY_API_KEY_PEPPER"):
        prod(api_key_pepper=pepper)


@pytest.mark.parametrize(
    "pepper",
    [
        "aaaaaaaaaaaaaaaaaaaaaaaa",  # 24 characters, one distinct
        "ab" * 20,  # long enough, two distinct
        "0123456789abcdefghijklmnopqrstu",  # 31 characters
    ],
)
def test_production_refuses_a_weak_api_key_pepper_without_echoing_it(pepper):
    with pytest.raises(ValidationError) as refused:
        prod(api_key_pepper=pepper)

    message = str(refused.value)
    assert "GATEWAY_API_KEY_PEPPER must be at least 32 characters" in message
    assert "at least 10 distinct" in message
    assert pepper not in message


def test_production_accepts_a_generated_api_key_pepper():
    pepper = secrets.token_urlsafe(32)

    assert prod(api_key_pepper=pepper).api_key_pepper is not None


def test_production_refusal_names_every_problem_at_once():
    with pytest.raises(ValidationError) as refused:
        prod(database_url=None, redis_url=None)

    message = str(refused.value)
    assert "GATEWAY_DATABASE_URL" in message
    assert "GATEWAY_REDIS_URL" in message


def test_production_refusal_does_not_echo_secrets():
    pepper = "pepper-0123456789-abcdefghij"
    database_url = "postgresql+asyncpg://gateway:db-password-XYZ@db.internal/manifold"

    with pytest.raises(ValidationError) as refused:
        prod(api_key_pepper=pepper, database_url=database_url, redis_url=None)

    message = str(refused.value)
    assert "GATEWAY_REDIS_URL" in message
    for secret in (pepper, "db-password-XYZ"):
        windows = {secret[i : i + 8] for i in range(len(secret) - 7)}
        assert not any(window in message for window in windows)


def test_development_needs_nothing_configured():
    settings = Settings()

    assert settings.env is Environment.DEV
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.uses_dev_issuer


def test_production_turns_graphiql_and_introspection_off_by_default():
    settings = prod()

    assert settings.graphiql_enabled is False
    assert settings.introspection_enabled is False


def test_production_can_turn_graphiql_and_introspection_on_explicitly():
    settings = prod(graphiql=True, introspection=True)

    assert settings.graphiql_enabled is True
    assert settings.introspection_enabled is True


def test_development_turns_graphiql_and_introspection_on_by_default():
    settings = Settings(env="dev")

    assert settings.graphiql_enabled is True
    assert settings.introspection_enabled is True


def test_production_never_uses_the_development_issuer():
    assert prod().uses_dev_issuer is False


def test_settings_are_read_from_gateway_environment_variables(monkeypatch):
    for name, value in PROD.items():
        monkeypatch.setenv(f"GATEWAY_{name.upper()}", value)
    monkeypatch.setenv("GATEWAY_OAUTH_AUDIENCE", "https://api.example.com")
    monkeypatch.setenv("GATEWAY_DATA_DIR", "/var/lib/manifold")
    monkeypatch.setenv("GATEWAY_GRAPHIQL", "true")

    settings = Settings()

    assert settings.is_prod
    assert settings.database_url == PROD["database_url"]
    assert settings.redis_url == PROD["redis_url"]
    assert settings.oauth_issuer == PROD["oauth_issuer"]
    assert settings.oauth_jwks_url == PROD["oauth_jwks_url"]
    assert settings.oauth_audience == "https://api.example.com"
    assert settings.data_dir == Path("/var/lib/manifold")
    assert settings.api_key_pepper is not None
    assert settings.api_key_pepper.get_secret_value() == PROD["api_key_pepper"]
    assert settings.graphiql_enabled is True


def test_an_unsafe_production_environment_is_refused(monkeypatch):
    monkeypatch.setenv("GATEWAY_ENV", "prod")

    with pytest.raises(ValidationError, match="refusing to start with GATEWAY_ENV=prod"):
        Settings()


def test_the_pepper_is_not_shown_when_settings_are_printed():
    settings = prod()

    assert PROD["api_key_pepper"] not in repr(settings)
    assert PROD["api_key_pepper"] not in str(settings)


def test_field_suggestions_follow_the_environment_unless_asked():
    assert Settings().field_suggestions_enabled
    assert not prod().field_suggestions_enabled
    assert prod(field_suggestions=True).field_suggestions_enabled


@pytest.mark.parametrize("password", ["postgres", "password", "CHANGEME"])
def test_production_refuses_a_placeholder_database_password(password):
    with pytest.raises(ValidationError, match="placeholder password"):
        prod(database_url=f"postgresql+asyncpg://gateway:{password}@db.internal/manifold")


# Partner features half-configured in production.

INTROSPECTION = {
    "oauth_introspection_url": "https://idp.example.com/oauth/introspect",
    "oauth_client_id": "manifold",
    "oauth_client_secret": "a-long-random-client-secret",
}


def test_production_requires_an_api_key_pepper():
    with pytest.raises(ValidationError, match="GATEWAY_API_KEY_PEPPER must be set"):
        prod(api_key_pepper=None)


def test_production_accepts_a_complete_introspection_configuration():
    assert prod(**INTROSPECTION).oauth_introspection_url == INTROSPECTION["oauth_introspection_url"]


@pytest.mark.parametrize(
    "change",
    [
        {"oauth_introspection_url": "http://idp.example.com/oauth/introspect"},
        {"oauth_client_id": None},
        {"oauth_client_secret": None},
    ],
)
def test_production_refuses_introspection_without_https_or_client_credentials(change):
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_INTROSPECTION_URL"):
        prod(**{**INTROSPECTION, **change})


def test_production_refuses_a_placeholder_client_secret():
    with pytest.raises(ValidationError, match="GATEWAY_OAUTH_CLIENT_SECRET"):
        prod(**{**INTROSPECTION, "oauth_client_secret": "secret"})


# Request protection: the documented defaults, read from GATEWAY_* variables.


def test_defaults_follow_graphql_armor_and_apollo_router():
    settings = Settings()

    assert settings.max_body_bytes == 2_000_000  # Apollo Router http_max_request_bytes
    assert (settings.max_aliases, settings.max_tokens, settings.max_directives) == (15, 1000, 50)
    assert settings.csrf_prevention is True
    assert settings.batch_max_operations == 0
    assert settings.limits_mode is LimitsMode.ENFORCE
    assert settings.persisted_only is False


def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GATEWAY_MAX_DEPTH", "7")
    monkeypatch.setenv("GATEWAY_LIMITS_MODE", "measure")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", '["https://app.example"]')
    monkeypatch.setenv("GATEWAY_PERSISTED_ONLY", "true")

    settings = Settings()

    assert settings.max_depth == 7
    assert settings.limits_mode is LimitsMode.MEASURE
    assert settings.cors_origins == ("https://app.example",)
    assert settings.persisted_only is True


def test_a_limit_below_one_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GATEWAY_MAX_DEPTH", "0")

    with pytest.raises(ValueError, match="max_depth"):
        Settings()


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://app.example", ("https://app.example",)),
        (
            "https://app.example, http://localhost:5173",
            ("https://app.example", "http://localhost:5173"),
        ),
        (
            '["https://app.example", "https://admin.example"]',
            ("https://app.example", "https://admin.example"),
        ),
        ("", ()),
        ("*", ("*",)),
    ],
    ids=["one", "comma-separated", "json", "empty", "any"],
)
def test_cors_origins_read_comma_separated_or_json(monkeypatch: pytest.MonkeyPatch, value, origins):
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", value)

    assert Settings().cors_origins == origins


@pytest.mark.parametrize(
    "value",
    ['["https://app.example"', "app.example", "https://app.example/", '{"a": 1}', "[1, 2]"],
    ids=["broken-json", "no-scheme", "trailing-slash", "json-object", "json-numbers"],
)
def test_an_unreadable_cors_origins_value_is_refused(monkeypatch: pytest.MonkeyPatch, value):
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", value)

    with pytest.raises(ValueError, match="cors_origins"):
        Settings()


def test_production_refuses_to_start_without_a_webhook_secret():
    with pytest.raises(ValidationError, match="GATEWAY_PAYMENTS_WEBHOOK_SECRET must be set"):
        prod(payments_webhook_secret=None)


@pytest.mark.parametrize("secret", ["changeme", "secret", "short-one"])
def test_production_refuses_a_placeholder_or_short_webhook_secret(secret):
    with pytest.raises(
        ValidationError, match="GATEWAY_PAYMENTS_WEBHOOK_SECRET holds a placeholder"
    ):
        prod(payments_webhook_secret=secret)


def test_production_refuses_the_test_crash_hook():
    with pytest.raises(ValidationError, match="GATEWAY_TEST_CRASH_AT is for tests only"):
        prod(test_crash_at="after-order-written")


def test_an_unknown_crash_point_is_refused_everywhere():
    with pytest.raises(ValidationError, match="GATEWAY_TEST_CRASH_AT must be one of"):
        Settings(test_crash_at="somewhere")


def test_an_idempotency_lease_must_outlast_a_request():
    with pytest.raises(ValidationError, match="must exceed GATEWAY_REQUEST_TIMEOUT_SECONDS"):
        Settings(request_timeout_seconds=30, idempotency_lease_seconds=30)


def test_idempotency_keys_are_kept_at_least_a_day():
    with pytest.raises(ValidationError):
        Settings(idempotency_ttl_seconds=3600)
