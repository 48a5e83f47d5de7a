"""What the datasources tell the operator: statements, upstream calls, cache and batch sizes.

The collectors are registered on a registry the caller owns (one per app), never the process-wide
default, so two gateway apps in one process (tests, multi-tenant embedding) never share counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
UPSTREAM_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DatasourceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "manifold_datasource_requests",
            "Calls made to a backend: SQL statements (source=database) or upstream HTTP calls.",
            ["source", "operation"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "manifold_dataloader_batch_size",
            "Keys per dataloader batch: how much an N+1 was folded into one call.",
            ["loader"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )

        self.upstream_seconds = Histogram(
            "manifold_upstream_request_duration_seconds",
            "Time an upstream REST call took, by upstream and outcome (ok, error, timeout).",
            ["upstream", "outcome"],
            buckets=UPSTREAM_SECONDS_BUCKETS,
            registry=registry,
        )
        self.upstream_outcomes = Counter(
            "manifold_upstream_responses",
            "Upstream results by kind: ok, not_found, circuit_open (refused without a call).",
            ["upstream", "outcome"],
            registry=registry,
        )
        self.breaker_open = Gauge(
            "manifold_upstream_circuit_open",
            "1 while an upstream's circuit breaker is open or half-open, else 0.",
            ["upstream"],
            registry=registry,
        )
        self.cache_requests = Counter(
            "manifold_cache_requests",
            "Shared-cache lookups by cache and result (hit, negative_hit, miss).",
            ["cache", "result"],
            registry=registry,
        )

    def record_call(self, upstream: str, operation: str) -> None:
        self.requests.labels(source=upstream, operation=operation).inc()

    def observe(self, upstream: str, outcome: str, seconds: float) -> None:
        self.upstream_seconds.labels(upstream=upstream, outcome=outcome).observe(seconds)

    def outcome(self, upstream: str, outcome: str) -> None:
        self.upstream_outcomes.labels(upstream=upstream, outcome=outcome).inc()

    def record_cache(self, cache: str, result: str, count: int = 1) -> None:
        if count:
            self.cache_requests.labels(cache=cache, result=result).inc(count)

    def record_batch(self, loader: str, size: int) -> None:
        self.batch_size.labels(loader=loader).observe(size)

    def count_statements(self, engine: AsyncEngine) -> Callable[[], None]:
        """Count every SQL statement the engine sends, labelled by its verb.

        Returns the function that stops counting, so an engine shared by several apps (tests)
        does not keep a listener per app that ever used it.
        """

        def before_cursor_execute(
            _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
        ) -> None:
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            self.requests.labels(source="database", operation=verb).inc()

        event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
        return lambda: event.remove(
            engine.sync_engine, "before_cursor_execute", before_cursor_execute
        )

    def database_statements(self) -> float:
        """The running total of SQL statements, for tests and the benchmark."""
        return self.calls("database")

    def calls(self, source: str) -> float:
        """The running total of calls to one backend (``database``, ``content``, …)."""
        total = 0.0
        for metric in self.requests.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total") and sample.labels.get("source") == source:
                    total += sample.value
        return total
