"""Reading users: who the caller is, and profiles for callers allowed to list them."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from auth.access import Requirement, any_of, require
from auth.principal import Principal, PrincipalKind
from contract.errors import BadUserInputError, ForbiddenError, NotFoundError
from contract.scopes import Scope
from contract.text import is_printable
from datasources.db import Database
from datasources.loaders import Loaders, UserPageKey
from datasources.pagination import Page, check_first
from datasources.user_writes import rename_user
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


WRITE_PROFILE: Requirement = any_of(Scope.USERS_WRITE)
MAX_NAME_LENGTH = 200


def check_name(name: str) -> str:
    """A display name: trimmed, 1 to 200 characters, printable on one line (no control or
    format characters, no line or paragraph separators; spaces are fine)."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not is_printable(name):
        raise BadUserInputError(
            f"name must be 1 to {MAX_NAME_LENGTH} printable characters",
            extensions={"field": ["input", "name"]},
        )
    return name


async def update_profile(
    *, database: Database, loaders: Loaders, principal: Principal, name: str
) -> UserRecord:
    """The caller's own profile, and only theirs: there is no user argument to aim elsewhere."""
    require(principal, WRITE_PROFILE)
    name = check_name(name)
    user = await current_user(loaders=loaders, principal=principal)
    if user is None:
        raise ForbiddenError("Only a signed-in user has a profile to update.")
    updated = await rename_user(database, user.id, name)
    if updated is None:
        raise NotFoundError("Your user record no longer exists.")
    # Later fields of this request read the new name, not the one loaded before.
    loaders.user_by_id.clear(updated.id).prime(updated.id, updated)
    loaders.user_by_subject.clear(updated.subject).prime(updated.subject, updated)
    return updated
