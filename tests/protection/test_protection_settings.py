"""The protection settings read from GATEWAY_* variables, with their documented defaults."""

from __future__ import annotations

import pytest

from gateway.settings import LimitsMode, Settings


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
