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

import logging
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from auth.principal import Principal, PrincipalKind
from datasources.backoff import Backoff, StoreUnavailableError
from datasources.cache import REDIS_TIMEOUT_SECONDS
from datasources.throttled_log import ThrottledWarning
from gateway.demand.cost import CostModel
from gateway.demand.windows import MemoryWindows, SlidingWindow
from schema.budget import BudgetStatus

logger = logging.getLogger("manifold.rate_limit")

__all__ = ["Budgets", "SlidingWindow", "budget_identity"]


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
        self._memory: MemoryWindows | None = None
        storage: RedisStorage | MemoryStorage
        if redis_url:
            self._pool = ConnectionPool.from_url(
                redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=f"{prefix}budget",
                # limits types options as scalars, but hands them to redis.asyncio.Redis as is.
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            storage = MemoryStorage()  # unused: the counters below are its faster equivalent
            self._memory = MemoryWindows()
        self._storage = storage
        self._warn = ThrottledWarning(logger)
        self._backoff = Backoff("the rate-limit store")
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def limit_for(self, principal: Principal) -> int:
        return principal.budget or self.default_budget

    async def charge(
        self, principal: Principal, client_ip: str | None, cost: int
    ) -> BudgetStatus | None:
        """Spend ``cost`` points atomically if the budget allows it; spend nothing otherwise.

        None when the budget store cannot be reached: the operation is then served unmetered
        (fail open, as rate limiters in front of APIs conventionally do) and a warning is
        logged at most once a minute, rather than an outage of Redis failing every request.
        """
        try:
            self._backoff.check()  # a store that just failed is skipped, not waited for
            status = await self._charge(principal, client_ip, cost)
        except (RedisError, OSError, StorageError) as error:
            if not isinstance(error, StoreUnavailableError):
                self._backoff.failed()
            self._warn("rate-limit storage unreachable: serving without budget checks")
            return None
        self._backoff.succeeded()
        return status

    async def _charge(self, principal: Principal, client_ip: str | None, cost: int) -> BudgetStatus:
        limit = self.limit_for(principal)
        item = RateLimitItemPerSecond(limit, self.window_seconds, namespace="cost")
        identity = budget_identity(principal, client_ip)
        if self._memory is not None:
            allowed, window = self._memory.charge(
                item.key_for(*identity), limit=limit, window=item.get_expiry(), cost=cost
            )
        else:
            allowed = cost <= 0 or await self._limiter.hit(item, *identity, cost=cost)
            # One read of the window serves both the feedback and, when refused, Retry-After.
            counts = await self._storage.get_sliding_window(
                item.key_for(*identity), item.get_expiry()
            )
            window = SlidingWindow(float(item.get_expiry()), *counts)
        retry_after = 0.0
        if not allowed:
            retry_after = min(
                2.0 * window.window, window.seconds_until_affordable(cost=cost, limit=limit)
            )
        return BudgetStatus(
            cost=cost,
            limit=limit,
            remaining=max(0, limit - window.spent),
            reset_at=time.time() + window.seconds_until_window_ends(),
            allowed=allowed,
            retry_after=retry_after,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
