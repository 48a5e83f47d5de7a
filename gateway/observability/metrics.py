"""Prometheus metrics of one app, on a registry of its own (nothing process-global).

Operation durations are labelled by operation name only for trusted documents, whose names an
operator reviewed: any other document's name is the client's free text, and a label a client
can vary is unbounded cardinality (one time series per name ever sent), so those are
``adhoc``. The process's CPU, memory, file descriptors and GC are on the same registry, so one
scrape of ``/metrics`` has everything.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from datasources.instrumentation import DatasourceMetrics
from gateway.observability.subscription_metrics import SubscriptionMetrics

#: Seconds: from a cache hit (a millisecond) to the default deadline (10 s) and beyond.
OPERATION_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
#: The operation label of any document that is not a trusted one.
ADHOC = "adhoc"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            # The default collectors read only the process (no state of their own), so every
            # app's registry may carry them.
            self.registry.register(collector)
        self.datasources = DatasourceMetrics(self.registry)
        self.subscriptions = SubscriptionMetrics(self.registry)
        self.http_duration = Histogram(
            "manifold_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.operation_duration = Histogram(
            "manifold_operation_duration_seconds",
            "Time from arrival to answer of one GraphQL operation, by type and name (the name "
            "only for trusted documents, else adhoc).",
            ["type", "operation"],
            buckets=OPERATION_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "manifold_graphql_errors",
            "GraphQL errors answered, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "manifold_operations_in_flight",
            "GraphQL requests executing now (admitted, not queued).",
            registry=self.registry,
        )
        self.queued = Gauge(
            "manifold_operations_queued",
            "GraphQL requests waiting for a free slot.",
            registry=self.registry,
        )
        self.shed = Counter(
            "manifold_requests_shed",
            "GraphQL requests refused for overload (503), by reason: queue_full, queue_timeout.",
            ["reason"],
            registry=self.registry,
        )
        self.concurrency_limit = Gauge(
            "manifold_concurrency_limit",
            "Operations allowed to execute at once in this process (moves when adaptive).",
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
