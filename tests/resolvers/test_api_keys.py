"""``resolvers.api_keys``: only ``admin:api-keys`` manages keys, a caller hands on only scopes it
holds, and a key's expiry is said one way, at most ``MAX_KEY_LIFETIME`` ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth.api_keys import MAX_KEY_LIFETIME
from contract.errors import AuthenticationError, BadUserInputError, ForbiddenError, NotFoundError
from contract.scopes import Scope
from datasources.tables import utc_now
from resolvers.api_keys import (
    create_api_key,
    expiry_from,
    list_api_keys,
    require_held,
    revoke_api_key,
)
from tests.resolvers.fakes import (
    ANONYMOUS,
    CAROL,
    EPOCH,
    FakeApiKeys,
    api_key_record,
    partner,
    user,
)

ADMIN = user(CAROL, Scope.ADMIN_API_KEYS, Scope.CONTENT_READ, Scope.USERS_READ)
EXISTING = api_key_record("existingkey1", Scope.CONTENT_READ)


# --- require_held ------------------------------------------------------------------------------


def test_a_caller_may_hand_on_scopes_it_holds() -> None:
    require_held(ADMIN, [Scope.CONTENT_READ, Scope.USERS_READ, Scope.CONTENT_READ])


def test_a_caller_may_hand_on_admin_api_keys_itself() -> None:
    require_held(ADMIN, [Scope.ADMIN_API_KEYS])


def test_a_scope_the_caller_does_not_hold_is_forbidden_and_named() -> None:
    with pytest.raises(ForbiddenError) as refused:
        require_held(ADMIN, [Scope.USERS_READ, Scope.ORDERS_READ_ALL, Scope.ORDERS_READ])

    message = refused.value.message
    assert message.endswith("missing: orders:read, orders:read:all")
    assert Scope.USERS_READ not in message


def test_unknown_scopes_are_bad_user_input_before_any_refusal() -> None:
    # orders:read:all is not held either; the unknown scope is reported first and alone.
    with pytest.raises(BadUserInputError) as refused:
        require_held(ADMIN, [Scope.ORDERS_READ_ALL, "orders:delete"])

    assert "orders:delete" in refused.value.message
    assert Scope.ORDERS_READ_ALL not in refused.value.message


def test_a_key_without_any_scope_is_bad_user_input() -> None:
    with pytest.raises(BadUserInputError):
        require_held(ADMIN, [])


# --- expiry_from -------------------------------------------------------------------------------


def test_no_expiry_means_a_key_that_does_not_expire() -> None:
    assert expiry_from(None, None) is None


def test_a_moment_is_passed_on_for_api_keys_create_to_check() -> None:
    assert expiry_from(None, EPOCH) == EPOCH


def test_a_duration_is_counted_from_now() -> None:
    before = utc_now()
    expiry = expiry_from("90d", None)
    after = utc_now()

    assert expiry is not None
    assert before + timedelta(days=90) <= expiry <= after + timedelta(days=90)


def test_both_a_duration_and_a_moment_are_refused() -> None:
    with pytest.raises(BadUserInputError):
        expiry_from("90d", EPOCH)


@pytest.mark.parametrize("duration", ["soon", "", "0", "0d", "-1d", "1w", "1.5h", "d"])
def test_a_malformed_or_empty_duration_is_bad_user_input(duration: str) -> None:
    with pytest.raises(BadUserInputError):
        expiry_from(duration, None)


def test_a_lifetime_of_exactly_the_maximum_is_accepted() -> None:
    assert expiry_from(f"{MAX_KEY_LIFETIME.days}d", None) is not None


@pytest.mark.parametrize(
    "duration",
    [
        f"{MAX_KEY_LIFETIME.days + 1}d",
        str(int(MAX_KEY_LIFETIME.total_seconds()) + 1),
        "9" * 30 + "d",
    ],
    ids=["a-day-over", "a-second-over", "beyond-what-datetime-holds"],
)
def test_a_lifetime_over_the_maximum_is_bad_user_input(duration: str) -> None:
    with pytest.raises(BadUserInputError, match="at most"):
        expiry_from(duration, None)


# --- create_api_key ----------------------------------------------------------------------------


async def test_an_admin_creates_a_key_with_scopes_it_holds() -> None:
    service = FakeApiKeys()

    created = await create_api_key(
        api_keys=service,
        principal=ADMIN,
        name="partner",
        scopes=[Scope.CONTENT_READ],
        owner="ops",
        budget=100,
        expires_in=None,
        expires_at=EPOCH,
    )

    assert created.replayed is False
    assert created.value.record.scopes == (Scope.CONTENT_READ,)
    assert service.calls == [
        (
            "create",
            {
                "name": "partner",
                "scopes": [Scope.CONTENT_READ],
                "owner": "ops",
                "budget": 100,
                "expires_at": EPOCH,
            },
        )
    ]


async def test_creating_a_key_needs_admin_api_keys_before_the_service_is_touched() -> None:
    service = FakeApiKeys()

    with pytest.raises(ForbiddenError):
        await create_api_key(
            api_keys=service,
            principal=user(CAROL, Scope.CONTENT_READ),
            name="partner",
            scopes=[Scope.CONTENT_READ],
            owner=None,
            budget=None,
            expires_in=None,
            expires_at=None,
        )

    assert service.calls == []


async def test_an_anonymous_caller_must_authenticate_to_create_a_key() -> None:
    service = FakeApiKeys()

    with pytest.raises(AuthenticationError):
        await create_api_key(
            api_keys=service,
            principal=ANONYMOUS,
            name="partner",
            scopes=[Scope.CONTENT_READ],
            owner=None,
            budget=None,
            expires_in=None,
            expires_at=None,
        )

    assert service.calls == []


async def test_an_admin_cannot_mint_a_key_with_a_scope_it_lacks() -> None:
    service = FakeApiKeys()

    with pytest.raises(ForbiddenError, match=Scope.ORDERS_READ_ALL):
        await create_api_key(
            api_keys=service,
            principal=ADMIN,
            name="partner",
            scopes=[Scope.CONTENT_READ, Scope.ORDERS_READ_ALL],
            owner=None,
            budget=None,
            expires_in=None,
            expires_at=None,
        )

    assert service.calls == []


async def test_an_unknown_scope_is_refused_before_the_service_is_touched() -> None:
    service = FakeApiKeys()

    with pytest.raises(BadUserInputError):
        await create_api_key(
            api_keys=service,
            principal=ADMIN,
            name="partner",
            scopes=["everything"],
            owner=None,
            budget=None,
            expires_in=None,
            expires_at=None,
        )

    assert service.calls == []


# --- revoke_api_key ----------------------------------------------------------------------------


async def test_an_admin_revokes_a_key_by_its_id() -> None:
    service = FakeApiKeys(EXISTING)

    record = await revoke_api_key(api_keys=service, principal=ADMIN, key_id=EXISTING.key_id)

    assert record == EXISTING
    assert service.calls == [("revoke", {"key_id": EXISTING.key_id})]


async def test_revoking_an_unknown_key_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="nosuchkey"):
        await revoke_api_key(api_keys=FakeApiKeys(), principal=ADMIN, key_id="nosuchkey")


async def test_revoking_a_key_needs_admin_api_keys_before_the_service_is_touched() -> None:
    service = FakeApiKeys(EXISTING)

    with pytest.raises(ForbiddenError):
        await revoke_api_key(
            api_keys=service, principal=partner(Scope.CONTENT_READ), key_id=EXISTING.key_id
        )

    assert service.calls == []


# --- list_api_keys -----------------------------------------------------------------------------


async def test_an_admin_lists_keys_with_the_paging_arguments_passed_on() -> None:
    service = FakeApiKeys(EXISTING)

    page = await list_api_keys(api_keys=service, principal=ADMIN, first=5, after="cursor")

    assert list(page.items) == [EXISTING]
    assert service.calls == [("page", {"first": 5, "after": "cursor"})]


async def test_listing_keys_needs_admin_api_keys_before_the_service_is_touched() -> None:
    service = FakeApiKeys(EXISTING)

    with pytest.raises(AuthenticationError):
        await list_api_keys(api_keys=service, principal=ANONYMOUS, first=None, after=None)

    assert service.calls == []
