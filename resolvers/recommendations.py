"""Reading recommendations: personal suggestions from the recommendations service.

``recommendations:read`` gates them. The caller's own come through ``Query.recommendations``.
Another user's are derived from that user's purchases (a reason may name a product they bought),
so they are as private as the orders: ``User.recommendations`` shows them only to the user
themself or to staff holding ``orders:read:all``.
"""

from __future__ import annotations

from auth.access import Requirement, any_of, require
from auth.principal import Principal
from contract.errors import BadUserInputError
from contract.scopes import Scope
from datasources.loaders import Loaders
from datasources.recommendations import (
    MAX_RECOMMENDATIONS,
    RecommendationKey,
    RecommendationRecord,
)
from resolvers.users import current_user

READ_RECOMMENDATIONS: Requirement = any_of(Scope.RECOMMENDATIONS_READ)
DEFAULT_RECOMMENDATIONS = 10


def check_count(first: int | None) -> int:
    if first is None:
        return DEFAULT_RECOMMENDATIONS
    if not 1 <= first <= MAX_RECOMMENDATIONS:
        raise BadUserInputError(f"`first` must be between 1 and {MAX_RECOMMENDATIONS}, got {first}")
    return first


async def recommendations_for_caller(
    *, loaders: Loaders, principal: Principal, first: int | None
) -> list[RecommendationRecord]:
    """The calling user's; partners and anonymous callers have no purchase history: none."""
    require(principal, READ_RECOMMENDATIONS)
    limit = check_count(first)
    user = await current_user(loaders=loaders, principal=principal)
    if user is None:
        return []
    return await loaders.recommendations.load(RecommendationKey(user.id, limit))


async def recommendations_of_user(
    *, loaders: Loaders, principal: Principal, user_id: int, first: int | None
) -> list[RecommendationRecord]:
    """Another user's read as none unless the caller may read everyone's orders."""
    require(principal, READ_RECOMMENDATIONS)
    key = RecommendationKey(user_id, check_count(first))
    if Scope.ORDERS_READ_ALL not in principal.scopes:
        viewer = await current_user(loaders=loaders, principal=principal)
        if viewer is None or viewer.id != user_id:
            return []
    return await loaders.recommendations.load(key)
