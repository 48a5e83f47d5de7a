"""The recommendations service: scored content ids per user, one batched call per list size.

Recommendations are personal and change as people buy, so they are not put in the shared cache;
the dataloader still folds every user of a request into one ``GET /recommendations`` call.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contract.errors import UpstreamError
from datasources.resilience import Deadline
from datasources.upstream import Upstream, chunked

logger = logging.getLogger("manifold.recommendations")

#: The most recommendations one user may ask for (the upstream's own limit).
MAX_RECOMMENDATIONS = 50


@dataclass(frozen=True, slots=True)
class RecommendationRecord:
    content_id: int
    score: float
    reason: str | None


@dataclass(frozen=True, slots=True)
class RecommendationKey:
    user_id: int
    limit: int


def _parse(raw: Any) -> RecommendationRecord:
    try:
        reason = raw.get("reason")
        return RecommendationRecord(
            content_id=int(raw["contentId"]),
            score=float(raw["score"]),
            reason=str(reason) if reason is not None else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        logger.warning("the recommendations service sent a malformed item")
        raise UpstreamError("the recommendations service is unavailable") from None


class RecommendationsSource:
    def __init__(self, upstream: Upstream, *, max_batch_size: int = 100) -> None:
        self.upstream = upstream
        self._max_batch_size = max_batch_size

    async def for_users(
        self, keys: Sequence[RecommendationKey], *, deadline: Deadline, request_id: str = ""
    ) -> dict[RecommendationKey, list[RecommendationRecord]]:
        """One call per distinct ``limit`` (and per chunk of users), not one per user."""
        by_limit: dict[int, list[int]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            by_limit[key.limit].append(key.user_id)
        results: dict[RecommendationKey, list[RecommendationRecord]] = {}
        for limit, user_ids in by_limit.items():
            for chunk in chunked(user_ids, self._max_batch_size):
                response = await self.upstream.get_json(
                    "/recommendations",
                    params={"user_ids": ",".join(map(str, chunk)), "limit": str(limit)},
                    deadline=deadline,
                    operation="GET /recommendations",
                    request_id=request_id,
                )
                per_user = self._results(response.body)
                for user_id in chunk:
                    items = per_user.get(str(user_id)) or []
                    results[RecommendationKey(user_id, limit)] = [_parse(item) for item in items][
                        :limit
                    ]
        return results

    @staticmethod
    def _results(body: Any) -> Mapping[str, Any]:
        if not isinstance(body, Mapping) or not isinstance(body.get("results"), Mapping):
            logger.warning("the recommendations service sent a body without results")
            raise UpstreamError("the recommendations service is unavailable")
        results: Mapping[str, Any] = body["results"]
        return results
