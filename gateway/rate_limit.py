"""Cost budgets: points per window per principal, shared by every gateway on one Redis.

Built on the ``limits`` library's sliding-window counter. Its Redis implementation checks the
weighted count and adds the operation's cost in one Lua script, so a charge is all or nothing
and concurrent requests (in one process or many) can never spend more than the budget; a
refused operation spends nothing. Without Redis (the embedded default) the same strategy runs
on ``limits``' in-process storage.

Budget keys: a partner's key id, a user's subject, an anonymous caller's IP address. A key's
own budget (from its row) replaces the default.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import ClassVar

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import ConnectionPool

from auth.principal import Principal, PrincipalKind
from gateway.cost import CostModel
from gateway.errors import ErrorCode, GatewayError

__all__ = [
    "BudgetStatus",
    "Budgets",
    "CostTooHighError",
    "RateLimitedError",
    "budget_identity",
]


class CostTooHighError(GatewayError):
    """The operation's estimated cost exceeds what one operation (or the caller's budget) allows."""

    code: ClassVar[ErrorCode] = ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE


class RateLimitedError(GatewayError):
    """The caller's budget for this window cannot pay for the operation."""

    code: ClassVar[ErrorCode] = ErrorCode.RATE_LIMITED


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One operation's charge, and the budget left after it."""

    cost: int
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when points next come back
    allowed: bool

    def reset_in(self, now: float | None = None) -> int:
        """Whole seconds until ``reset_at`` (at least 1 when anything is spent)."""
        seconds = math.ceil(self.reset_at - (time.time() if now is None else now))
        return max(1 if self.remaining < self.limit else 0, seconds)


def budget_identity(principal: Principal, client_ip: str | None) -> tuple[str, str]:
    if principal.kind is PrincipalKind.PARTNER and principal.subject:
        return ("key", principal.subject)
    if principal.kind is PrincipalKind.USER and principal.subject:
        return ("user", principal.subject)
    return ("ip", client_ip or "unknown")


class Budgets:
    """The rate-limit storage and rules of one gateway; created and closed in the lifespan."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        prefix: str,
        default_budget: int,
        window_seconds: int,
        max_cost: int,
        model: CostModel,
    ) -> None:
        self.default_budget = default_budget
        self.window_seconds = window_seconds
        self.max_cost = max_cost
        self.model = model
        self._pool: ConnectionPool | None = None
        storage: RedisStorage | MemoryStorage
        if redis_url:
            self._pool = ConnectionPool.from_url(
                redis_url, socket_connect_timeout=2, socket_timeout=2
            )
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=f"{prefix}budget",
                # limits types options as scalars, but hands them to redis.asyncio.Redis as is.
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def limit_for(self, principal: Principal) -> int:
        return principal.budget or self.default_budget

    async def charge(self, principal: Principal, client_ip: str | None, cost: int) -> BudgetStatus:
        """Spend ``cost`` points atomically if the budget allows it; spend nothing otherwise."""
        limit = self.limit_for(principal)
        item = RateLimitItemPerSecond(limit, self.window_seconds, namespace="cost")
        identity = budget_identity(principal, client_ip)
        allowed = cost <= 0 or await self._limiter.hit(item, *identity, cost=cost)
        stats = await self._limiter.get_window_stats(item, *identity)
        return BudgetStatus(
            cost=cost,
            limit=limit,
            remaining=stats.remaining,
            reset_at=stats.reset_time,
            allowed=allowed,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
