"""A configuration the gateway refuses is one line saying why, exit status 2, for every command
that reads settings: no traceback, and never a value (values may be secrets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.settings import get_settings

PEPPER = "pepper-that-is-too-short"
DB_PASSWORD = "changeme"


@pytest.fixture
def refused_production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GATEWAY_ENV=prod with most of what production needs missing or weak."""
    monkeypatch.setenv("GATEWAY_ENV", "prod")
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"postgresql://app:{DB_PASSWORD}@db.internal/app")
    monkeypatch.setenv("GATEWAY_API_KEY_PEPPER", PEPPER)
    for name in ("GATEWAY_REDIS_URL", "GATEWAY_OAUTH_ISSUER", "GATEWAY_OAUTH_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "arguments",
    [
        ["serve"],
        ["demo"],
        ["db", "upgrade"],
        ["db", "seed"],
        ["token", "--user", "1"],
        ["keys", "create", "--name", "x", "--scope", "users:read"],
        ["keys", "list"],
        ["keys", "revoke", "abcdefabcdef"],
    ],
    ids=lambda arguments: " ".join(arguments[:2]),
)
def test_refused_settings_are_one_line_and_exit_2(refused_production: None, arguments: list[str]):
    result = CliRunner().invoke(cli, arguments)

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("refusing to start with GATEWAY_ENV=prod: ")
    assert "GATEWAY_REDIS_URL must be set" in lines[0]
    assert "Traceback" not in result.output


def test_a_settings_refusal_never_prints_a_value(refused_production: None):
    result = CliRunner().invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 2
    assert PEPPER not in result.output
    assert DB_PASSWORD not in result.output


def _upgrade_with(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> tuple[int, str]:
    """``gateway db upgrade`` with one setting set to ``value``: its exit code and output."""
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output.strip()


def test_a_malformed_setting_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch):
    exit_code, output = _upgrade_with(monkeypatch, "GATEWAY_REQUEST_TIMEOUT_SECONDS", "soon")

    assert exit_code == 2
    assert output.startswith("GATEWAY_REQUEST_TIMEOUT_SECONDS: ")
    assert "soon" not in output
    assert len(output.splitlines()) == 1


def test_an_unreadable_cors_origins_value_is_one_line(monkeypatch: pytest.MonkeyPatch):
    exit_code, output = _upgrade_with(monkeypatch, "GATEWAY_CORS_ORIGINS", '["https://app.example"')

    assert exit_code == 2
    (line,) = output.splitlines()
    assert line.startswith("GATEWAY_CORS_ORIGINS: is neither a JSON list of origins")
