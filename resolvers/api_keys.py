"""Managing partner API keys: only holders of ``admin:api-keys`` may create, list or revoke.

Over GraphQL a caller may only hand on scopes it holds itself: ``admin:api-keys`` alone must
not mint a key with ``orders:read:all``. The operator CLI (``gateway keys create``) calls
``ApiKeys.create`` directly and may grant any known scope, since it has database access anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from auth.access import Requirement, any_of, require
from auth.api_keys import (
    MAX_KEY_LIFETIME,
    ApiKeys,
    CreatedApiKey,
    check_scopes,
    lifetime_too_long,
)
from auth.durations import parse_duration
from auth.principal import Principal
from contract.errors import BadUserInputError, ForbiddenError, NotFoundError
from contract.scopes import Scope
from datasources.api_keys import ApiKeyRecord
from datasources.pagination import Page
from datasources.tables import utc_now

ADMIN_API_KEYS: Requirement = any_of(Scope.ADMIN_API_KEYS)


def expiry_from(expires_in: str | None, expires_at: datetime | None) -> datetime | None:
    """One way to say when a key expires: a duration (``90d``) or a moment, not both; at most
    ``MAX_KEY_LIFETIME`` ahead (``ApiKeys.create`` checks a moment)."""
    if expires_in is not None and expires_at is not None:
        raise BadUserInputError("give expiresIn or expiresAt, not both")
    if expires_in is None:
        return expires_at
    try:
        seconds = parse_duration(expires_in)
    except ValueError as error:
        raise BadUserInputError(str(error)) from None
    if seconds > MAX_KEY_LIFETIME.total_seconds():  # before timedelta/datetime can overflow
        raise BadUserInputError(lifetime_too_long())
    return utc_now() + timedelta(seconds=seconds)


def require_held(principal: Principal, scopes: list[str]) -> None:
    """Refuse a key with any scope the caller does not hold (unknown scopes are
    ``BAD_USER_INPUT`` first, so the refusal names only real scopes)."""
    missing = sorted(set(check_scopes(scopes)) - principal.scopes)
    if missing:
        raise ForbiddenError(
            "a key may only carry scopes you hold yourself; missing: " + ", ".join(missing)
        )


async def create_api_key(
    *,
    api_keys: ApiKeys,
    principal: Principal,
    name: str,
    scopes: list[str],
    owner: str | None,
    budget: int | None,
    expires_at: datetime | None,
) -> CreatedApiKey:
    require(principal, ADMIN_API_KEYS)
    require_held(principal, scopes)
    return await api_keys.create(
        name=name, scopes=scopes, owner=owner, budget=budget, expires_at=expires_at
    )


async def revoke_api_key(*, api_keys: ApiKeys, principal: Principal, key_id: str) -> ApiKeyRecord:
    require(principal, ADMIN_API_KEYS)
    record = await api_keys.revoke(key_id)
    if record is None:
        raise NotFoundError(f"no API key with id {key_id!r}")
    return record


async def list_api_keys(
    *, api_keys: ApiKeys, principal: Principal, first: int | None, after: str | None
) -> Page[ApiKeyRecord]:
    require(principal, ADMIN_API_KEYS)
    return await api_keys.page(first=first, after=after)
