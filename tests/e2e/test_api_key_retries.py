"""A retried createApiKey answers with the key it made, never a second one."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from datasources.tables import api_keys, idempotency_keys
from tests.factories import make_user
from tests.helpers import key_header

CREATE = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { key apiKey { id name scopes } } }"""


async def keys_named(connection: AsyncConnection, name: str) -> int:
    query = select(func.count()).select_from(api_keys).where(api_keys.c.name == name)
    return int((await connection.execute(query)).scalar_one())


async def test_a_retry_with_the_same_key_returns_the_same_api_key(gateway, connection):
    admin = await make_user(connection)
    token = gateway.token(admin.subject, "admin:api-keys", "content:read")
    request = {"name": "retried partner", "scopes": ["content:read"], "expiresIn": "30d"}

    first = await gateway.execute(
        CREATE, {"input": {**request, "idempotencyKey": "key-1"}}, token=token
    )
    retry = await gateway.execute(
        CREATE, {"input": {**request, "idempotencyKey": "key-1"}}, token=token
    )

    assert first.errors == []
    assert retry.data == first.data
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await keys_named(connection, "retried partner") == 1
    me = await gateway.execute(
        "{ rateLimit { limit } }", headers=key_header(retry.data["createApiKey"]["key"])
    )
    assert me.errors == []


async def test_the_idempotency_key_header_protects_createApiKey_too(gateway, connection):
    admin = await make_user(connection)
    token = gateway.token(admin.subject, "admin:api-keys", "content:read")
    variables = {"input": {"name": "header partner", "scopes": ["content:read"]}}

    first = await gateway.execute(
        CREATE, variables, token=token, headers={"Idempotency-Key": "h-1"}
    )
    retry = await gateway.execute(
        CREATE, variables, token=token, headers={"Idempotency-Key": "h-1"}
    )

    assert retry.data == first.data
    assert await keys_named(connection, "header partner") == 1


async def test_the_stored_answer_never_holds_the_key_in_clear(gateway, connection):
    admin = await make_user(connection)
    token = gateway.token(admin.subject, "admin:api-keys", "content:read")

    created = await gateway.execute(
        CREATE,
        {"input": {"name": "sealed", "scopes": ["content:read"], "idempotencyKey": "sealed-1"}},
        token=token,
    )

    secret = created.data["createApiKey"]["key"].split("_")[-1]
    (stored,) = (
        await connection.execute(
            select(idempotency_keys.c.response).where(idempotency_keys.c.key == "sealed-1")
        )
    ).scalars()
    assert secret not in stored


async def test_the_same_key_for_another_api_key_request_is_refused(gateway, connection):
    admin = await make_user(connection)
    token = gateway.token(admin.subject, "admin:api-keys", "content:read")
    await gateway.execute(
        CREATE,
        {"input": {"name": "one", "scopes": ["content:read"], "idempotencyKey": "k"}},
        token=token,
    )

    other = await gateway.execute(
        CREATE,
        {"input": {"name": "two", "scopes": ["content:read"], "idempotencyKey": "k"}},
        token=token,
    )

    assert other.status == 422
    assert other.codes == ["IDEMPOTENCY_KEY_REUSED"]
    assert await keys_named(connection, "two") == 0


async def test_without_an_idempotency_key_each_call_makes_a_key(gateway, connection):
    admin = await make_user(connection)
    token = gateway.token(admin.subject, "admin:api-keys", "content:read")
    variables = {"input": {"name": "unkeyed", "scopes": ["content:read"]}}

    await gateway.execute(CREATE, variables, token=token)
    await gateway.execute(CREATE, variables, token=token)

    assert await keys_named(connection, "unkeyed") == 2
