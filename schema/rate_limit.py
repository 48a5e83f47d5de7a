"""``rateLimit``: the caller's budget, free to ask for (an operation selecting only this field
costs nothing and spends nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from schema.context import Context

#: Types the cost model prices at zero, so checking the budget never spends it.
FREE_TYPES = frozenset({"RateLimit"})


@strawberry.type(description="The caller's cost budget, as charged for this operation.")
class RateLimit:
    cost: int = strawberry.field(description="Points this operation cost.")
    limit: int = strawberry.field(description="Points per window.")
    remaining: int = strawberry.field(description="Points left in the window after this one.")
    reset_at: datetime = strawberry.field(
        description="When the current window ends and its spending starts to fade (UTC)."
    )


@strawberry.type
class RateLimitQuery:
    @strawberry.field(description="Your cost budget; null when rate limiting is off.")
    def rate_limit(self, info: strawberry.Info[Context]) -> RateLimit | None:
        status = info.context.cost
        if status is None:
            return None
        return RateLimit(
            cost=status.cost,
            limit=status.limit,
            remaining=status.remaining,
            reset_at=datetime.fromtimestamp(status.reset_at, UTC),
        )
