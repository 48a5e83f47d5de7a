"""Reading users: who the caller is, and profiles for callers allowed to list them."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from auth.access import Requirement, any_of, require
from auth.principal import Principal, PrincipalKind
from contract.scopes import Scope
from datasources.loaders import Loaders, UserPageKey
from datasources.pagination import Page, check_first
from datasources.users import UserRecord, parse_user_cursor

READ_USERS: Requirement = any_of(Scope.USERS_READ)
READ_EMAIL: Requirement = any_of(Scope.USERS_EMAIL)


async def current_user(*, loaders: Loaders, principal: Principal) -> UserRecord | None:
    """The user row behind a user principal; partners and anonymous callers have none."""
    if principal.kind is not PrincipalKind.USER or principal.subject is None:
        return None
    return await loaders.user_by_subject.load(principal.subject)


async def get_users(
    *, loaders: Loaders, principal: Principal, user_ids: Sequence[int]
) -> list[UserRecord | None]:
    require(principal, READ_USERS)
    return list(await loaders.user_by_id.load_many(list(user_ids)))


async def list_users(
    *, loaders: Loaders, principal: Principal, first: int | None, after: str | None
) -> Page[UserRecord]:
    require(principal, READ_USERS)
    key = UserPageKey(
        first=check_first(first), after_id=None if after is None else parse_user_cursor(after)
    )
    return await loaders.users_page.load(key)


def get_customer(*, loaders: Loaders, user_id: int) -> Awaitable[UserRecord | None]:
    """An order's customer: visible to whoever may see the order, so no scope of its own.

    The loader's future itself (not a coroutine awaiting it): this runs once per order in a
    list.
    """
    return loaders.user_by_id.load(user_id)
