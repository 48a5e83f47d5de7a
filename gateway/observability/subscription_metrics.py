"""Metrics of the streaming transports: connections, subscriptions, events delivered, dropped
and lagging. Registered on the app's registry (``Metrics.registry``) like every other metric.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from datasources.event_fanout import EventFanout


class SubscriptionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.connections = Gauge(
            "manifold_subscription_connections",
            "Open WebSocket connections and SSE streams, by transport.",
            ["transport"],
            registry=registry,
        )
        self.active = Gauge(
            "manifold_subscriptions_active",
            "Subscriptions running now, by transport.",
            ["transport"],
            registry=registry,
        )
        self.delivered = Counter(
            "manifold_subscription_events_delivered",
            "Subscription events written to clients, by transport.",
            ["transport"],
            registry=registry,
        )
        self.closed = Counter(
            "manifold_subscription_closes",
            "Streaming connections closed by the gateway, by reason (a bounded set).",
            ["reason"],
            registry=registry,
        )
        self._fanout: _FanoutCollector | None = None

    def watch(self, fanout: EventFanout) -> None:
        """Export the fan-out's own counters (dropped, lagging) while it runs."""
        self.unwatch()
        self._fanout = _FanoutCollector(fanout)
        self.registry.register(self._fanout)

    def unwatch(self) -> None:
        if self._fanout is not None:
            self.registry.unregister(self._fanout)
            self._fanout = None


class _FanoutCollector(Collector):
    def __init__(self, fanout: EventFanout) -> None:
        self.fanout = fanout

    def collect(self) -> Iterator[Metric]:
        stats = self.fanout.stats
        yield CounterMetricFamily(
            "manifold_subscription_events_dropped",
            "Events not delivered because their subscriber's queue was full (slow consumers).",
            value=stats.dropped,
        )
        yield CounterMetricFamily(
            "manifold_subscription_broker_failures",
            "Failed reads of the event broker (each retried from the last position).",
            value=stats.broker_failures,
        )
        yield CounterMetricFamily(
            "manifold_subscription_interrupted",
            "Subscriptions ended because the event broker stayed unreachable too long.",
            value=stats.interrupted,
        )
        yield GaugeMetricFamily(
            "manifold_subscription_lagging",
            "Subscribers with at least half their queue waiting.",
            value=self.fanout.lagging(),
        )
        yield GaugeMetricFamily(
            "manifold_subscription_feeds",
            "Subscribers the event fan-out serves in this process.",
            value=self.fanout.subscribers,
        )
