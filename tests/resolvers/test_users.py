"""``resolvers.users``: who the caller is, and profiles for callers holding ``users:read``."""

from __future__ import annotations

import pytest

from auth.principal import Principal, PrincipalKind
from contract.errors import AuthenticationError, BadUserInputError, ForbiddenError
from contract.scopes import Scope
from datasources.loaders import UserPageKey
from datasources.orders import order_cursor
from datasources.pagination import encode_cursor
from datasources.users import USER_CURSOR
from resolvers.users import check_name, current_user, get_customer, get_users, list_users
from tests.resolvers.fakes import (
    ALICE,
    ALICE_FIRST_ORDER,
    ANONYMOUS,
    BOB,
    CAROL,
    FakeLoaders,
    partner,
    user,
    user_without_row,
)

ADMIN = user(CAROL, Scope.USERS_READ)


@pytest.fixture
async def fake() -> FakeLoaders:
    return FakeLoaders()


# --- current_user ------------------------------------------------------------------------------


async def test_current_user_is_the_row_behind_a_user_principal(fake: FakeLoaders) -> None:
    assert await current_user(loaders=fake.loaders, principal=user(ALICE)) == ALICE
    assert fake.user_by_subject.asked == [ALICE.subject]


async def test_current_user_needs_no_scope(fake: FakeLoaders) -> None:
    assert await current_user(loaders=fake.loaders, principal=user(BOB)) == BOB


async def test_current_user_is_none_for_a_partner_without_any_load(fake: FakeLoaders) -> None:
    principal = partner(*Scope)

    assert await current_user(loaders=fake.loaders, principal=principal) is None
    assert fake.asked() == {}


async def test_current_user_is_none_for_an_anonymous_caller(fake: FakeLoaders) -> None:
    assert await current_user(loaders=fake.loaders, principal=ANONYMOUS) is None
    assert fake.asked() == {}


async def test_current_user_is_none_for_a_user_principal_without_a_subject(
    fake: FakeLoaders,
) -> None:
    principal = Principal(kind=PrincipalKind.USER, subject=None)

    assert await current_user(loaders=fake.loaders, principal=principal) is None
    assert fake.asked() == {}


async def test_current_user_is_none_for_a_subject_without_a_row(fake: FakeLoaders) -> None:
    assert await current_user(loaders=fake.loaders, principal=user_without_row()) is None


# --- get_users ---------------------------------------------------------------------------------


async def test_get_users_answers_in_the_order_asked_with_none_for_unknown_ids(
    fake: FakeLoaders,
) -> None:
    users = await get_users(loaders=fake.loaders, principal=ADMIN, user_ids=[BOB.id, 999, ALICE.id])

    assert users == [BOB, None, ALICE]


async def test_get_users_needs_users_read(fake: FakeLoaders) -> None:
    with pytest.raises(ForbiddenError):
        await get_users(
            loaders=fake.loaders, principal=user(ALICE, Scope.USERS_EMAIL), user_ids=[ALICE.id]
        )

    assert fake.asked() == {}


async def test_get_users_asks_an_anonymous_caller_to_authenticate(fake: FakeLoaders) -> None:
    with pytest.raises(AuthenticationError):
        await get_users(loaders=fake.loaders, principal=ANONYMOUS, user_ids=[ALICE.id])

    assert fake.asked() == {}


async def test_a_partner_with_users_read_may_get_users(fake: FakeLoaders) -> None:
    users = await get_users(
        loaders=fake.loaders, principal=partner(Scope.USERS_READ), user_ids=[ALICE.id]
    )

    assert users == [ALICE]


# --- list_users --------------------------------------------------------------------------------


async def test_list_users_pages_from_the_start_by_default(fake: FakeLoaders) -> None:
    page = await list_users(loaders=fake.loaders, principal=ADMIN, first=None, after=None)

    assert fake.users_page.asked == [UserPageKey(first=20, after_id=None)]
    assert list(page.items) == [ALICE, BOB, CAROL]


async def test_list_users_resumes_after_the_cursor(fake: FakeLoaders) -> None:
    page = await list_users(
        loaders=fake.loaders, principal=ADMIN, first=1, after=encode_cursor(USER_CURSOR, [ALICE.id])
    )

    assert fake.users_page.asked == [UserPageKey(first=1, after_id=ALICE.id)]
    assert list(page.items) == [BOB]


async def test_list_users_needs_users_read(fake: FakeLoaders) -> None:
    with pytest.raises(ForbiddenError):
        await list_users(loaders=fake.loaders, principal=user(ALICE), first=None, after=None)

    assert fake.asked() == {}


async def test_list_users_asks_an_anonymous_caller_to_authenticate(fake: FakeLoaders) -> None:
    with pytest.raises(AuthenticationError):
        await list_users(loaders=fake.loaders, principal=ANONYMOUS, first=None, after=None)


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90IGpzb24",  # base64 of "not json"
        encode_cursor(USER_CURSOR, [0]),
        encode_cursor(USER_CURSOR, ["1"]),
        encode_cursor(USER_CURSOR, [1, 2]),
        order_cursor(ALICE_FIRST_ORDER),
    ],
    ids=["garbage", "not-json", "id-zero", "id-as-text", "two-parts", "an-order-cursor"],
)
async def test_a_malformed_user_cursor_is_bad_user_input(fake: FakeLoaders, cursor: str) -> None:
    with pytest.raises(BadUserInputError):
        await list_users(loaders=fake.loaders, principal=ADMIN, first=None, after=cursor)

    assert fake.asked() == {}


@pytest.mark.parametrize("first", [0, 101])
async def test_list_users_refuses_first_outside_1_to_100(fake: FakeLoaders, first: int) -> None:
    with pytest.raises(BadUserInputError):
        await list_users(loaders=fake.loaders, principal=ADMIN, first=first, after=None)


# --- get_customer ------------------------------------------------------------------------------


async def test_an_orders_customer_is_loaded_by_id_without_a_scope_check(fake: FakeLoaders) -> None:
    assert await get_customer(loaders=fake.loaders, user_id=BOB.id) == BOB
    assert fake.user_by_id.asked == [BOB.id]


# --- check_name (updateProfile's name) ---------------------------------------------------------


def test_a_name_is_trimmed():
    assert check_name("  Ada Lovelace  ") == "Ada Lovelace"


def test_a_name_may_hold_any_kind_of_space_between_words():
    name = "Ada\u00a0Lovelace\u3000\u2003Byron"  # no-break, ideographic and em spaces (Zs)

    assert check_name(name) == name


@pytest.mark.parametrize("control", ["\x00", "\n", "\x1b", "\x85"], ids=repr)
def test_a_name_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(BadUserInputError, match="printable characters"):
        check_name(f"Ada{control}Lovelace")


def test_a_name_with_a_format_character_is_refused() -> None:
    with pytest.raises(BadUserInputError, match="printable characters"):
        check_name("Ada\u202eLovelace")  # right-to-left override (Cf)


def test_a_name_with_a_line_separator_is_refused() -> None:
    with pytest.raises(BadUserInputError, match="printable characters"):
        check_name("Ada\u2028Lovelace")


def test_a_name_with_a_paragraph_separator_is_refused() -> None:
    with pytest.raises(BadUserInputError, match="printable characters"):
        check_name("Ada\u2029Lovelace")


def test_a_refused_name_names_the_input_field() -> None:
    with pytest.raises(BadUserInputError) as refused:
        check_name("Ada\u2028Lovelace")

    assert refused.value.extensions == {"field": ["input", "name"]}
