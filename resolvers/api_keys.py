"""Managing partner API keys: only holders of ``admin:api-keys`` may create, list or revoke.

Over GraphQL a caller may only hand on scopes it holds itself: ``admin:api-keys`` alone must
not mint a key with ``orders:read:all``. The operator CLI (``gateway keys create``) calls
``ApiKeys.create`` directly and may grant any known scope, since it has database access anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

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
from datasources.idempotency import Claim, Idempotent, IdempotentRequests
from datasources.pagination import Page
from datasources.resilience import Deadline
from datasources.tables import utc_now
from resolvers.idempotency import key_scope

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
    expires_in: str | None,
    expires_at: datetime | None,
    idempotency: IdempotentRequests | None = None,
    idempotency_key: str | None = None,
    deadline: Deadline | None = None,
) -> Idempotent[CreatedApiKey]:
    """A new key; with an idempotency key, a retry answers with the same key (its secret kept
    sealed with the answer), never a second one."""
    require(principal, ADMIN_API_KEYS)
    require_held(principal, scopes)
    expiry = expiry_from(expires_in, expires_at)

    async def create(claim: Claim | None) -> CreatedApiKey:
        async def store_answer(connection: AsyncConnection, created: CreatedApiKey) -> None:
            if claim is not None and idempotency is not None:
                answer = {"keyId": created.record.key_id, "sealed": api_keys.seal(created.key)}
                await idempotency.store.complete(connection, claim, answer)

        return await api_keys.create(
            name=name,
            scopes=scopes,
            owner=owner,
            budget=budget,
            expires_at=expiry,
            within=store_answer,
        )

    if idempotency is None:  # a gateway without the store (the CLI): nothing to replay
        return Idempotent(await create(None), replayed=False)

    async def replay(stored: dict[str, Any]) -> CreatedApiKey:
        record = await api_keys.by_key_id(str(stored["keyId"]))
        if record is None:
            raise NotFoundError("The key this request created no longer exists.")
        return CreatedApiKey(key=api_keys.unseal(str(stored["sealed"])), record=record)

    return await idempotency.run(
        scope=key_scope(principal),
        key=idempotency_key,
        operation="createApiKey",
        # As sent: "90d" names the same request tomorrow, though it means another moment.
        request={
            "name": name,
            "scopes": sorted(set(scopes)),
            "owner": owner,
            "budget": budget,
            "expiresIn": expires_in,
            "expiresAt": None if expires_at is None else expires_at.isoformat(),
        },
        deadline=deadline or Deadline(30.0),
        execute=create,
        decode=replay,
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
