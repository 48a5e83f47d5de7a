"""What both streaming transports share in one process: the pipeline, the credential check,
the event fan-out, the limits and metrics, and the open connections a drain must close.

Made in the lifespan (``create_app``), one per app. On drain (SIGTERM under ``gateway serve``)
it stops every feed — queued events still go out — and then each WebSocket closes with 1001
and each SSE stream ends, so clients reconnect to another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from auth.credentials import Authenticator
from datasources.event_fanout import EventFanout
from gateway.observability.subscription_metrics import SubscriptionMetrics
from gateway.operations.pipeline import OperationPipeline
from gateway.runtime.shutdown import Shutdown
from gateway.settings import Settings
from gateway.subscriptions.caller import Caller
from gateway.subscriptions.limits import Occupancy
from gateway.subscriptions.origin import origin_allowed


class Drainable(Protocol):
    async def drain(self) -> None:
        """Send what is in flight, then close as a draining replica does."""
        ...


@dataclass(slots=True)
class SubscriptionService:
    settings: Settings
    pipeline: OperationPipeline
    authenticator: Authenticator
    fanout: EventFanout
    metrics: SubscriptionMetrics
    shutdown: Shutdown
    occupancy: Occupancy = field(init=False)
    connections: set[Drainable] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _unregister: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.occupancy = Occupancy(
            max_connections=self.settings.subscription_max_connections,
            max_per_principal=self.settings.subscription_max_per_principal,
        )

    async def start(self) -> None:
        await self.fanout.start()
        self.metrics.watch(self.fanout)
        self._unregister = self.shutdown.on_drain(self._on_drain)

    async def close(self) -> None:
        if self._unregister is not None:
            self._unregister()
        await self.drain_all()
        await self.fanout.close()
        self.metrics.unwatch()

    @property
    def draining(self) -> bool:
        return self.shutdown.draining

    def caller(self) -> Caller:
        return Caller(
            self.authenticator,
            recheck_seconds=self.settings.subscription_recheck_seconds,
            timeout_seconds=self.settings.request_timeout_seconds,
        )

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        return origin_allowed(origin, host=host, allowed=self.settings.cors_origins)

    def _on_drain(self) -> None:
        task = asyncio.get_running_loop().create_task(self.drain_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain_all(self) -> None:
        """Stop every feed (queued events are still sent), then close every connection."""
        self.fanout.stop_feeds()
        connections = list(self.connections)
        if connections:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.shutdown_grace_seconds):
                    await asyncio.gather(
                        *(connection.drain() for connection in connections),
                        return_exceptions=True,
                    )
