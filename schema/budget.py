"""A budget's state after one charge, as the schema shows it (``rateLimit``) and the gateway
reports it (``extensions.cost``, ``RateLimit-*``): one value type and one ``resetAt`` format, so
both write the same moment the same way. Below the gateway that charges budgets."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

#: How far past a whole second ``reset_at`` may land and still read as that second: the window
#: arithmetic (Redis TTLs in ms, float seconds) overshoots by a little, which is noise.
_RESET_NOISE_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One operation's charge, and the budget left after it."""

    cost: int
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when points next come back
    allowed: bool
    #: For a refused charge: seconds until the budget can pay for it (``Retry-After``).
    retry_after: float = 0.0

    def reset_in(self, now: float | None = None) -> int:
        """Whole seconds until ``reset_at`` (at least 1 when anything is spent)."""
        seconds = math.ceil(self.reset_at - (time.time() if now is None else now))
        return max(1 if self.remaining < self.limit else 0, seconds)


def reset_moment(reset_at: float) -> datetime:
    """``reset_at`` as clients see it: a whole UTC second, rounded up (a client waiting until
    then finds the window over) unless it is only timer noise past a whole second."""
    return datetime.fromtimestamp(math.ceil(reset_at - _RESET_NOISE_SECONDS), UTC)


def format_reset_at(reset_at: float) -> str:
    """ISO 8601 in UTC with ``Z`` and whole seconds: ``2026-11-23T22:00:00Z``."""
    return reset_moment(reset_at).isoformat().replace("+00:00", "Z")
