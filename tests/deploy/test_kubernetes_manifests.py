"""The Kubernetes manifests render with kustomize and validate offline against the Kubernetes
schemas (kubernetes-validate ships them), and keep the promises the runbook makes: probes on
the gateway's endpoints, a grace period that covers the drain, a non-root read-only container."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.settings import Settings

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
