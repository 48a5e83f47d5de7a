"""``resolvers.recommendations``: ``recommendations:read`` gates them; another user's are as
private as that user's orders."""

from __future__ import annotations

import pytest

from auth.principal import Principal, PrincipalKind
from contract.errors import AuthenticationError, BadUserInputError, ForbiddenError
from contract.scopes import Scope
from datasources.recommendations import RecommendationKey
from resolvers.recommendations import recommendations_for_caller, recommendations_of_user
from tests.resolvers.fakes import (
    ALICE,
    ALICE_RECOMMENDATIONS,
    ANONYMOUS,
    BOB,
    CAROL,
    FakeLoaders,
    partner,
    user,
    user_without_row,
)

READER = user(ALICE, Scope.RECOMMENDATIONS_READ)
OTHER_READER = user(BOB, Scope.RECOMMENDATIONS_READ)
STAFF = user(CAROL, Scope.RECOMMENDATIONS_READ, Scope.ORDERS_READ_ALL)


@pytest.fixture
async def fake() -> FakeLoaders:
    return FakeLoaders()


# --- the caller's own ------------------------------------------------------------------------


async def test_a_user_gets_ten_of_their_own_recommendations_by_default(fake: FakeLoaders) -> None:
    recommendations = await recommendations_for_caller(
        loaders=fake.loaders, principal=READER, first=None
    )

    assert fake.recommendations.asked == [RecommendationKey(ALICE.id, 10)]
    assert recommendations == ALICE_RECOMMENDATIONS[:10]


async def test_first_is_the_limit_passed_to_the_loader(fake: FakeLoaders) -> None:
    recommendations = await recommendations_for_caller(
        loaders=fake.loaders, principal=READER, first=3
    )

    assert fake.recommendations.asked == [RecommendationKey(ALICE.id, 3)]
    assert recommendations == ALICE_RECOMMENDATIONS[:3]


@pytest.mark.parametrize("first", [1, 50])
async def test_first_of_1_or_50_is_accepted(fake: FakeLoaders, first: int) -> None:
    await recommendations_for_caller(loaders=fake.loaders, principal=READER, first=first)

    assert fake.recommendations.asked == [RecommendationKey(ALICE.id, first)]


@pytest.mark.parametrize("first", [0, -1, 51])
async def test_first_outside_1_to_50_is_bad_user_input(fake: FakeLoaders, first: int) -> None:
    with pytest.raises(BadUserInputError):
        await recommendations_for_caller(loaders=fake.loaders, principal=READER, first=first)

    assert fake.asked() == {}


async def test_recommendations_need_recommendations_read(fake: FakeLoaders) -> None:
    with pytest.raises(ForbiddenError):
        await recommendations_for_caller(
            loaders=fake.loaders, principal=user(ALICE, Scope.ORDERS_READ_ALL), first=None
        )

    assert fake.asked() == {}


async def test_an_anonymous_caller_must_authenticate_for_recommendations(
    fake: FakeLoaders,
) -> None:
    with pytest.raises(AuthenticationError):
        await recommendations_for_caller(loaders=fake.loaders, principal=ANONYMOUS, first=None)

    assert fake.asked() == {}


async def test_a_partner_has_no_recommendations_of_its_own(fake: FakeLoaders) -> None:
    recommendations = await recommendations_for_caller(
        loaders=fake.loaders, principal=partner(Scope.RECOMMENDATIONS_READ), first=None
    )

    assert recommendations == []
    assert fake.asked() == {}


async def test_an_anonymous_principal_granted_the_scope_still_has_none(fake: FakeLoaders) -> None:
    principal = Principal(
        kind=PrincipalKind.ANONYMOUS, scopes=frozenset({Scope.RECOMMENDATIONS_READ})
    )

    assert (
        await recommendations_for_caller(loaders=fake.loaders, principal=principal, first=None)
        == []
    )
    assert fake.asked() == {}


async def test_a_user_without_a_row_has_no_recommendations(fake: FakeLoaders) -> None:
    recommendations = await recommendations_for_caller(
        loaders=fake.loaders, principal=user_without_row(Scope.RECOMMENDATIONS_READ), first=None
    )

    assert recommendations == []
    assert fake.recommendations.asked == []


# --- another user's ----------------------------------------------------------------------------


async def test_a_user_sees_their_own_recommendations_through_their_user(
    fake: FakeLoaders,
) -> None:
    recommendations = await recommendations_of_user(
        loaders=fake.loaders, principal=READER, user_id=ALICE.id, first=2
    )

    assert fake.recommendations.asked == [RecommendationKey(ALICE.id, 2)]
    assert recommendations == ALICE_RECOMMENDATIONS[:2]


async def test_another_users_recommendations_read_as_empty(fake: FakeLoaders) -> None:
    recommendations = await recommendations_of_user(
        loaders=fake.loaders, principal=OTHER_READER, user_id=ALICE.id, first=None
    )

    assert recommendations == []
    assert fake.recommendations.asked == []


async def test_orders_read_alone_does_not_open_another_users_recommendations(
    fake: FakeLoaders,
) -> None:
    principal = user(BOB, Scope.RECOMMENDATIONS_READ, Scope.ORDERS_READ)

    assert (
        await recommendations_of_user(
            loaders=fake.loaders, principal=principal, user_id=ALICE.id, first=None
        )
        == []
    )


async def test_staff_with_orders_read_all_see_another_users_recommendations(
    fake: FakeLoaders,
) -> None:
    recommendations = await recommendations_of_user(
        loaders=fake.loaders, principal=STAFF, user_id=ALICE.id, first=None
    )

    assert fake.recommendations.asked == [RecommendationKey(ALICE.id, 10)]
    assert recommendations == ALICE_RECOMMENDATIONS[:10]
    assert fake.user_by_subject.asked == []


async def test_a_partner_sees_a_users_recommendations_only_with_orders_read_all(
    fake: FakeLoaders,
) -> None:
    without = partner(Scope.RECOMMENDATIONS_READ)
    with_all = partner(Scope.RECOMMENDATIONS_READ, Scope.ORDERS_READ_ALL)

    assert (
        await recommendations_of_user(
            loaders=fake.loaders, principal=without, user_id=ALICE.id, first=1
        )
        == []
    )
    assert (
        await recommendations_of_user(
            loaders=fake.loaders, principal=with_all, user_id=ALICE.id, first=1
        )
        == ALICE_RECOMMENDATIONS[:1]
    )


async def test_another_users_recommendations_need_recommendations_read_even_for_staff(
    fake: FakeLoaders,
) -> None:
    with pytest.raises(ForbiddenError):
        await recommendations_of_user(
            loaders=fake.loaders,
            principal=user(CAROL, Scope.ORDERS_READ_ALL),
            user_id=ALICE.id,
            first=None,
        )

    assert fake.asked() == {}


@pytest.mark.parametrize("first", [0, 51])
async def test_first_is_checked_even_when_the_answer_would_be_empty(
    fake: FakeLoaders, first: int
) -> None:
    with pytest.raises(BadUserInputError):
        await recommendations_of_user(
            loaders=fake.loaders, principal=OTHER_READER, user_id=ALICE.id, first=first
        )

    assert fake.asked() == {}
