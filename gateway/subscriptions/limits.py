"""What one process lets streaming clients hold: connections, subscriptions per caller, and a
message rate per WebSocket. Counted per process (a replica protects its own memory and
sockets; the cost budget, shared through Redis, is what limits a caller across replicas)."""

from __future__ import annotations

import time
from collections import Counter

from auth.principal import Principal


class TokenBucket:
    """``rate`` messages a second sustained, ``burst`` at once: a flood is refused unread."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = time.monotonic()

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def principal_key(principal: Principal, client_ip: str | None) -> str:
    """Whose subscriptions these are: a subject, or an anonymous caller's address."""
    if principal.is_anonymous or principal.subject is None:
        return f"anonymous:{client_ip or '-'}"
    return f"{principal.kind.value}:{principal.subject}"


class Occupancy:
    """Open connections and running subscriptions of this process."""

    def __init__(self, *, max_connections: int, max_per_principal: int) -> None:
        self.max_connections = max_connections
        self.max_per_principal = max_per_principal
        self.connections = 0
        self.subscriptions = 0
        self._by_principal: Counter[str] = Counter()

    def open_connection(self) -> bool:
        if self.connections >= self.max_connections:
            return False
        self.connections += 1
        return True

    def close_connection(self) -> None:
        self.connections = max(0, self.connections - 1)

    def add_subscription(self, key: str) -> bool:
        if self._by_principal[key] >= self.max_per_principal:
            return False
        self._by_principal[key] += 1
        self.subscriptions += 1
        return True

    def remove_subscription(self, key: str) -> None:
        if self._by_principal[key] > 0:
            self._by_principal[key] -= 1
            self.subscriptions -= 1
        if self._by_principal[key] == 0:
            del self._by_principal[key]
