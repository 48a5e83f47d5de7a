"""``rateLimit``: the caller's budget, free to ask for (an operation selecting only this field
costs nothing and spends nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from schema.budget import format_reset_at, reset_moment
from schema.context import Context

#: Types the cost model prices at zero, so checking the budget never spends it.
FREE_TYPES = frozenset({"RateLimit"})


class _ResetMoment(datetime):
    """A whole UTC second that the ``DateTime`` scalar (which calls ``isoformat()``) writes as
    ``extensions.cost.resetAt`` is written, ``2026-11-23T22:00:00Z``, so the two agree."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return format_reset_at(self.timestamp())


@strawberry.type(description="The caller's cost budget, as charged for this operation.")
class RateLimit:
    cost: int = strawberry.field(description="Points this operation cost.")
    limit: int = strawberry.field(description="Points per window.")
    remaining: int = strawberry.field(description="Points left in the window after this one.")
    reset_at: datetime = strawberry.field(
        description="When the current window ends and its spending starts to fade: UTC, whole "
        "seconds, as `extensions.cost.resetAt` (`2026-11-23T22:00:00Z`)."
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
            reset_at=_ResetMoment.fromtimestamp(reset_moment(status.reset_at).timestamp(), UTC),
        )
