"""Readiness: "send me traffic", answered at once from checks run off the request path.

Only what stops this replica from serving makes it unready: the database unreachable, its
schema behind this build's migrations, the signing keys never loaded, or the process draining.
Redis and the REST upstreams are reported as degraded and never fail readiness: every replica
shares them, so failing on them would take every replica out of the load balancer at once,
while the gateway serves fine without them (cache bypass, budgets fail open, partial data).

Checks run in the background, at most once per interval and only while someone asks (stale
while revalidating), so an overloaded process answers ``/readyz`` in microseconds from the last
result instead of timing out. A ready replica turns unready only after two failed rounds in a
row: one check timing out under load is not an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auth.jwks import KeySource, RemoteJwksSource
from datasources.cache import Cache
from datasources.db import Database
from datasources.loaders import Backends
from datasources.migrate import database_revision
from gateway.runtime.shutdown import Shutdown

logger = logging.getLogger("manifold.readiness")

#: Each check's bound; a check is a ping, so one slower than this is as good as down.
CHECK_TIMEOUT_SECONDS = 1.0
#: Failed rounds in a row before a ready replica turns unready.
FAILURES_TO_UNREADY = 2

Probe = Callable[[], Awaitable[None]]


class SchemaBehindError(Exception):
    """The database is reachable but not migrated to the revision this build expects."""


async def run_check(probe: Probe, seconds: float = CHECK_TIMEOUT_SECONDS) -> str:
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        return "timeout"
    except SchemaBehindError:
        return "behind"
    except Exception:  # the body says which dependency failed, never how (no hosts, no SQL)
        return "unavailable"
    return "ok"


@dataclass(frozen=True, slots=True)
class Report:
    status: str
    ready: bool
    checks: Mapping[str, str]
    degraded: tuple[str, ...] = ()
    upstreams: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checks": dict(self.checks),
            "degraded": list(self.degraded),
            "upstreams": dict(self.upstreams),
        }


class Readiness:
    """One per app; ``report()`` never waits on a dependency once the first round is done."""

    def __init__(
        self,
        *,
        database: Database,
        cache: Cache,
        key_source: KeySource,
        backends: Backends,
        schema_revision: str,
        shutdown: Shutdown,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._cache = cache
        self._key_source = key_source
        self._backends = backends
        self._schema_revision = schema_revision
        self._shutdown = shutdown
        self._interval = interval_seconds
        self._clock = clock
        self._checks: dict[str, str] = {}
        self._checked_at: float | None = None
        self._failed_rounds = 0
        self._ready = False
        self._round: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first round, before the app serves, so a new replica's first answer is a real
        one; a hung dependency delays start-up by one check timeout at most."""
        self._refresh()
        assert self._round is not None
        await asyncio.shield(self._round)

    async def close(self) -> None:
        if self._round is not None and not self._round.done():
            self._round.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._round

    def report(self) -> Report:
        if self._checked_at is None or self._clock() - self._checked_at >= self._interval:
            self._refresh()
        upstreams = {
            upstream.name: upstream.breaker.state.value if upstream.configured else "not_configured"
            for upstream in self._backends.upstreams()
        }
        degraded = tuple(
            [name for name in (self._cache.name,) if self._checks.get(name) != "ok"]
            + [name for name, state in upstreams.items() if state != "closed"]
        )
        if self._shutdown.draining:
            return Report("draining", False, self._checks, degraded, upstreams)
        if not self._ready:
            return Report("unavailable", False, self._checks, degraded, upstreams)
        return Report("degraded" if degraded else "ready", True, self._checks, degraded, upstreams)

    def _refresh(self) -> None:
        if self._round is None or self._round.done():
            self._round = asyncio.get_running_loop().create_task(self._run_round())

    async def _run_round(self) -> None:
        names = ("database", "migrations", "jwks", self._cache.name)
        results = await asyncio.gather(
            run_check(self._database.ping),
            run_check(self._migrations),
            run_check(self._jwks),
            run_check(self._cache.ping),
        )
        checks = dict(zip(names, results, strict=True))
        required_ok = all(checks[name] == "ok" for name in names[:3])
        if required_ok:
            self._failed_rounds = 0
            self._ready = True
        else:
            self._failed_rounds += 1
            # Behind is no blip: a replica whose code expects missing tables fails every request.
            if (
                not self._ready
                or checks["migrations"] == "behind"
                or self._failed_rounds >= FAILURES_TO_UNREADY
            ):
                if self._ready:
                    logger.warning("not ready: %s", _failing(checks, names[:3]))
                self._ready = False
        self._checks = checks
        self._checked_at = self._clock()

    async def _migrations(self) -> None:
        if await database_revision(self._database) != self._schema_revision:
            raise SchemaBehindError

    async def _jwks(self) -> None:
        source = self._key_source
        if isinstance(source, RemoteJwksSource) and not source.loaded:
            await source.refresh()


def _failing(checks: Mapping[str, str], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name}={checks[name]}" for name in names if checks[name] != "ok")
