"""docker-compose and the Dockerfile, checked structurally (no Docker engine runs here): the
demo's services, shared secrets and data, and an image that is pinned, non-root and lean."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def env_file() -> dict[str, str]:
    lines = (DEPLOY / "demo.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return dict(pairs)


def test_compose_runs_the_whole_demo_behind_a_proxy():
    services = compose()["services"]

    assert set(services) == {
        "postgres",
        "redis",
        "content",
        "recommendations",
        "payments",
        "migrate",
        "gateway-1",
        "gateway-2",
        "proxy",
    }
    assert services["proxy"]["ports"] == ["8000:8000"]
    assert "gateway db seed" in " ".join(services["migrate"]["entrypoint"])


def test_both_replicas_and_the_job_share_the_data_volume_and_the_env_file():
    services = compose()["services"]

    for name in ("gateway-1", "gateway-2", "migrate"):
        assert "manifold-data:/var/lib/manifold" in services[name]["volumes"]
        assert services[name]["env_file"] == ["demo.env"]
    assert set(compose()["volumes"]) == {"postgres-data", "manifold-data"}
    assert services["gateway-1"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_the_env_file_sets_only_settings_the_gateway_knows_and_they_validate(monkeypatch):
    values = env_file()
    gateway = {name: value for name, value in values.items() if name.startswith("GATEWAY_")}

    known = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    assert set(gateway) <= known
    for name, value in gateway.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.redis_url == "redis://redis:6379/0"


def payments_arguments() -> dict[str, str]:
    """The sample provider's options as its container's shell runs them (``$$`` is compose's
    escape for ``$``; the shell then expands the variable from the env file)."""
    entrypoint = compose()["services"]["payments"]["entrypoint"]
    assert entrypoint[:2] == ["sh", "-c"]
    words = shlex.split(entrypoint[2].replace("$$", "$"))
    assert words[:4] == ["exec", "python", "-m", "demo.payments"]
    options = words[4:]
    return dict(zip(options[::2], options[1::2], strict=True))


def test_the_env_file_configures_the_payment_provider_and_its_webhook_secret(monkeypatch):
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    for name, value in env_file().items():
        if name.startswith("GATEWAY_"):
            monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.payments_url == f"http://payments:{payments_arguments()['--port']}"
    assert settings.payments_webhook_secret is not None
    assert len(settings.payments_webhook_secret.get_secret_value()) >= 16
    assert settings.payments_api_key is not None


def test_the_provider_signs_with_the_gateways_secret_and_needs_the_gateways_api_key():
    arguments = payments_arguments()

    assert compose()["services"]["payments"]["env_file"] == ["demo.env"]
    assert arguments["--webhook-secret"] == "$GATEWAY_PAYMENTS_WEBHOOK_SECRET"
    assert arguments["--api-key"] == "$GATEWAY_PAYMENTS_API_KEY"
    assert arguments["--host"] == "0.0.0.0"


def test_the_provider_delivers_webhooks_through_the_proxy_to_either_replica():
    services = compose()["services"]
    nginx = (DEPLOY / "nginx.conf").read_text()

    assert payments_arguments()["--webhook-url"] == "http://proxy:8000/webhooks/payments"
    assert "listen 8000;" in nginx
    assert re.search(r"location / \{\s*proxy_pass http://manifold;", nginx)
    assert "server gateway-1:8000" in nginx
    assert "server gateway-2:8000" in nginx
    for replica in ("gateway-1", "gateway-2"):
        assert services[replica]["depends_on"]["payments"] == {"condition": "service_started"}


def test_the_image_is_pinned_non_root_and_carries_no_tests_or_bench():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"python:3\.\d+\.\d+-slim-bookworm", dockerfile)
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    copied = re.findall(r"^COPY (?!--from)(\S+)", dockerfile, flags=re.MULTILINE)
    assert "tests" not in copied
    assert "bench" not in copied
