"""docker-compose and the Dockerfile, checked structurally (no Docker engine runs here): the
demo's services, shared secrets and data, and an image that is pinned, non-root and lean."""

from __future__ import annotations

import re
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


def test_the_image_is_pinned_non_root_and_carries_no_tests_or_bench():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"python:3\.\d+\.\d+-slim-bookworm", dockerfile)
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    copied = re.findall(r"^COPY (?!--from)(\S+)", dockerfile, flags=re.MULTILINE)
    assert "tests" not in copied
    assert "bench" not in copied
