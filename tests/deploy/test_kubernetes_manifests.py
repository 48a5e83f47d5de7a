"""The Kubernetes manifests render with kustomize and validate offline against the Kubernetes
schemas (kubernetes-validate ships them), and keep the promises the runbook makes: probes on
the gateway's endpoints, a grace period that covers the drain, a non-root read-only container."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from gateway.settings import Settings

SECRET = "manifold-secrets"
#: Placeholder-free values of the shape each Secret key needs; any other key gets a random token.
SECRET_VALUES = {
    "GATEWAY_DATABASE_URL": "postgresql+asyncpg://manifold:{token}@postgres:5432/manifold",
    "GATEWAY_REDIS_URL": "redis://redis:6379/0",
}

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
SCHEMA_VERSION = "1.32.0"


def rendered(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render the manifests")
    output = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / overlay)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [document for document in documents if document["kind"] == kind]
    return found


@pytest.mark.parametrize("overlay", ["base", "overlays/prod"])
def test_every_rendered_manifest_validates_against_the_kubernetes_schemas(overlay):
    documents = rendered(overlay)

    for document in documents:
        kubernetes_validate.validate(document, SCHEMA_VERSION, strict=True)
    assert {document["kind"] for document in documents} >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Job",
        "ConfigMap",
        "ServiceAccount",
    }


def test_the_prod_deployment_probes_the_gateways_health_endpoints():
    container = by_kind(rendered("overlays/prod"), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]

    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["image"].startswith("registry.example.com/manifold/gateway:")


def test_the_termination_grace_period_covers_the_prestop_the_drain_and_the_grace():
    documents = rendered("overlays/prod")
    pod = by_kind(documents, "Deployment")["spec"]["template"]["spec"]
    config = by_kind(documents, "ConfigMap")["data"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]

    needed = (
        pre_stop
        + float(config["GATEWAY_SHUTDOWN_DELAY_SECONDS"])
        + float(config["GATEWAY_SHUTDOWN_GRACE_SECONDS"])
    )

    assert pod["terminationGracePeriodSeconds"] > needed
    assert float(config["GATEWAY_SHUTDOWN_GRACE_SECONDS"]) > float(
        config["GATEWAY_REQUEST_TIMEOUT_SECONDS"]
    )


def test_the_containers_run_as_non_root_on_a_read_only_filesystem():
    documents = rendered("overlays/prod")
    for kind in ("Deployment", "Job"):
        pod = by_kind(documents, kind)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_the_configmap_names_only_settings_the_gateway_knows():
    config = by_kind(rendered("overlays/prod"), "ConfigMap")["data"]

    known = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    assert set(config) <= known


def secret_refs(container: dict[str, Any]) -> dict[str, bool]:
    """Each variable a container reads from the Secret, and whether it is required."""
    refs = {}
    for variable in container.get("env", []):
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            assert ref["name"] == SECRET
            assert ref["key"] == variable["name"]
            refs[variable["name"]] = not ref.get("optional", False)
    return refs


def gateway_container(documents: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    containers: list[dict[str, Any]] = by_kind(documents, kind)["spec"]["template"]["spec"][
        "containers"
    ]
    (container,) = containers
    return container


def prod_settings(monkeypatch, config: dict[str, str], secret_names: set[str]) -> Settings:
    """Settings as a pod gets them: the ConfigMap, and a value for each of ``secret_names``."""
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    for name, value in config.items():
        monkeypatch.setenv(name, value)
    for name in secret_names:
        token = secrets.token_urlsafe(32)
        monkeypatch.setenv(name, SECRET_VALUES.get(name, "{token}").format(token=token))
    return Settings()


@pytest.mark.parametrize("overlay", ["base", "overlays/prod"])
def test_prod_settings_in_the_manifests_pass_the_gateways_own_prod_checks(monkeypatch, overlay):
    documents = rendered(overlay)
    config = by_kind(documents, "ConfigMap")["data"]
    required = {
        name for name, needed in secret_refs(gateway_container(documents)).items() if needed
    }

    settings = prod_settings(monkeypatch, config, required)

    assert settings.is_prod
    assert settings.payments_url == config["GATEWAY_PAYMENTS_URL"]
    assert config["GATEWAY_PAYMENTS_URL"].startswith("https://")


def test_the_webhook_secret_and_the_payments_api_key_are_required_secret_references():
    refs = secret_refs(gateway_container(rendered("overlays/prod")))

    assert refs["GATEWAY_PAYMENTS_WEBHOOK_SECRET"] is True
    assert refs["GATEWAY_PAYMENTS_API_KEY"] is True
    assert refs["GATEWAY_PAYMENTS_WEBHOOK_PREVIOUS_SECRET"] is False  # only while rotating


def test_without_the_webhook_secret_the_manifests_settings_are_refused(monkeypatch):
    documents = rendered("overlays/prod")
    config = by_kind(documents, "ConfigMap")["data"]
    required = {
        name for name, needed in secret_refs(gateway_container(documents)).items() if needed
    }

    with pytest.raises(ValidationError, match="GATEWAY_PAYMENTS_WEBHOOK_SECRET must be set"):
        prod_settings(monkeypatch, config, required - {"GATEWAY_PAYMENTS_WEBHOOK_SECRET"})


def test_the_migration_job_reads_the_same_secrets_as_the_gateway():
    documents = rendered("overlays/prod")

    assert secret_refs(gateway_container(documents, "Job")) == secret_refs(
        gateway_container(documents)
    )


def test_no_secret_is_set_in_the_configmap():
    config = by_kind(rendered("overlays/prod"), "ConfigMap")["data"]
    secret_settings = {
        f"GATEWAY_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }

    assert not set(config) & secret_settings
    assert "GATEWAY_DATABASE_URL" not in config
