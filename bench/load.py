"""What one load phase sends and what it measured (``bench.wrk`` runs it).

Closed loop (rather than a fixed arrival rate) measures the throughput the server sustains at a
given concurrency, which is what the ratio to ``/healthz`` compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

#: Whether a response is a success; returns a short reason when it is not.
Check = Callable[[httpx.Response], str | None]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: object = None


@dataclass(slots=True)
class LoadResult:
    requests: int = 0
    errors: int = 0
    elapsed_seconds: float = 0.0
    #: CPU the load generator itself used meanwhile: near one core means client-bound.
    client_cpu_seconds: float = 0.0
    p50_seconds: float = 0.0
    p99_seconds: float = 0.0
    #: The first few distinct failure reasons, so an error count can be explained.
    error_samples: list[str] = field(default_factory=list)

    def record_error(self, reason: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5 and reason not in self.error_samples:
            self.error_samples.append(reason)
