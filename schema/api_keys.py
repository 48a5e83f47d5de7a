"""GraphQL management of partner API keys (scope ``admin:api-keys``); secrets never leave
except once, in ``createApiKey``'s payload."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from auth.api_keys import ApiKeys
from contract.errors import GatewayError
from datasources.api_keys import ApiKeyRecord
from resolvers import api_keys as key_resolvers
from schema.context import Context
from schema.idempotency import keyed
from schema.permissions import scoped


def _service(info: strawberry.Info[Context]) -> ApiKeys:
    if info.context.api_keys is None:
        raise GatewayError("API keys are not enabled on this gateway")
    return info.context.api_keys


@strawberry.type(description="A partner API key (never its secret).")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key id: the part after `mfk_`.")
    name: str
    owner: str | None = strawberry.field(description="The partner the key was issued to.")
    scopes: list[str]
    budget: int | None = strawberry.field(
        description="Cost points per rate-limit window; null: the gateway default."
    )
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(
        description="Last successful use, recorded at most once a minute."
    )

    @classmethod
    def from_record(cls, record: ApiKeyRecord) -> ApiKey:
        return cls(
            id=strawberry.ID(record.key_id),
            name=record.name,
            owner=record.owner,
            scopes=list(record.scopes),
            budget=record.budget,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            last_used_at=record.last_used_at,
        )


@strawberry.type
class ApiKeyEdge:
    cursor: str
    node: ApiKey


@strawberry.type
class ApiKeyConnection:
    edges: list[ApiKeyEdge]
    page_info: relay.PageInfo


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str]
    owner: str | None = None
    budget: int | None = strawberry.field(
        default=None, description="Cost points per window; unset: the gateway default."
    )
    expires_in: str | None = strawberry.field(
        default=None, description="Lifetime such as `90d` or `12h`; or give expiresAt."
    )
    expires_at: datetime | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: a retry with the same key and input answers with the "
        "same key, never a second one. Or send the Idempotency-Key header.",
    )


@strawberry.type
class CreateApiKeyPayload:
    key: str = strawberry.field(
        description="The full key, `mfk_<id>_<secret>`. Shown this once (and to a retry with "
        "the same idempotency key, for 24 h): store it now."
    )
    api_key: ApiKey


@strawberry.type
class ApiKeysQuery:
    # Nullable so that a caller without the scope loses only this field, not its siblings.
    @strawberry.field(
        **scoped(
            key_resolvers.ADMIN_API_KEYS,
            "Partner API keys, oldest first; null (with a FORBIDDEN error) without the scope.",
        )
    )
    async def api_keys(
        self, info: strawberry.Info[Context], first: int | None = 20, after: str | None = None
    ) -> ApiKeyConnection | None:
        page = await key_resolvers.list_api_keys(
            api_keys=_service(info), principal=info.context.principal, first=first, after=after
        )
        return ApiKeyConnection(
            edges=[
                ApiKeyEdge(cursor=cursor, node=ApiKey.from_record(record))
                for record, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=relay.PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )


@strawberry.type
class ApiKeysMutation:
    @strawberry.mutation(
        **scoped(
            key_resolvers.ADMIN_API_KEYS,
            "Issue a partner key; the secret is shown once (and to a retry with the same "
            "idempotency key).",
        )
    )
    async def create_api_key(
        self, info: strawberry.Info[Context], input: CreateApiKeyInput
    ) -> CreateApiKeyPayload:
        context = info.context
        created = await keyed(
            info,
            input.idempotency_key,
            lambda key: key_resolvers.create_api_key(
                api_keys=_service(info),
                principal=context.principal,
                name=input.name,
                scopes=input.scopes,
                owner=input.owner,
                budget=input.budget,
                expires_in=input.expires_in,
                expires_at=input.expires_at,
                idempotency=None if context.writes is None else context.writes.idempotency,
                idempotency_key=key,
                deadline=context.deadline,
            ),
        )
        return CreateApiKeyPayload(key=created.key, api_key=ApiKey.from_record(created.record))

    @strawberry.mutation(
        **scoped(
            key_resolvers.ADMIN_API_KEYS,
            "Revoke a key; every gateway refuses it within a second.",
        )
    )
    async def revoke_api_key(self, info: strawberry.Info[Context], id: strawberry.ID) -> ApiKey:
        record = await key_resolvers.revoke_api_key(
            api_keys=_service(info), principal=info.context.principal, key_id=str(id)
        )
        return ApiKey.from_record(record)
