"""Prometheus metrics of one app, on a registry of its own (nothing process-global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from datasources.instrumentation import DatasourceMetrics


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.datasources = DatasourceMetrics(self.registry)
        self.http_duration = Histogram(
            "manifold_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )

        self.executions = Counter(
            "manifold_executions",
            "Operations executed, by path (compiled or interpreted) and, for the interpreted "
            "path, why the compiled one was not taken (a bounded set of reasons).",
            ["path", "reason"],
            registry=self.registry,
        )

    def count_execution(self, path: str, reason: str) -> None:
        self.executions.labels(path=path, reason=reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
