"""GraphQL presentation of recommendations from the recommendations service."""

from __future__ import annotations

import strawberry

from datasources.recommendations import RecommendationRecord
from resolvers import recommendations as recommendation_resolvers
from schema.content import Content, content_by_id
from schema.context import Context
from schema.permissions import scoped


@strawberry.type(description="Content suggested for a user, with how strongly and why.")
class Recommendation:
    content_id: strawberry.Private[int]
    score: float = strawberry.field(description="Relevance in (0, 1]; higher is better.")
    reason: str | None = strawberry.field(description="Why it was suggested, for display.")

    @classmethod
    def from_record(cls, record: RecommendationRecord) -> Recommendation:
        return cls(content_id=record.content_id, score=record.score, reason=record.reason)

    @strawberry.field(description="The suggested content; null if it is no longer visible.")
    async def content(self, info: strawberry.Info[Context]) -> Content | None:
        return await content_by_id(info, self.content_id)


RECOMMENDATIONS_FOR_CALLER = scoped(
    recommendation_resolvers.READ_RECOMMENDATIONS,
    "Suggestions for the calling user, best first (first: 1..50, default 10); empty for "
    "partners. Null (with an UPSTREAM_* error) only when the service cannot answer.",
)


@strawberry.type
class RecommendationsQuery:
    @strawberry.field(**RECOMMENDATIONS_FOR_CALLER)
    async def recommendations(
        self, info: strawberry.Info[Context], first: int | None = 10
    ) -> list[Recommendation] | None:
        records = await recommendation_resolvers.recommendations_for_caller(
            loaders=info.context.loaders, principal=info.context.principal, first=first
        )
        return [Recommendation.from_record(record) for record in records]
