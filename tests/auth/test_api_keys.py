"""Specifications of partner API keys: issue, use, scope, expire, revoke, and never leak."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from auth.key_material import hash_secret, load_pepper, parse_key
from datasources import api_keys as store
from datasources.tables import api_keys
from gateway.observability.log import uvicorn_log_config
from gateway.settings import Settings
from tests.factories import make_order, make_user
from tests.helpers import issue_key, key_header, key_service

ADMIN = "admin:api-keys"

CREATE = """
mutation Create($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { key apiKey { id name owner scopes budget expiresAt revokedAt } }
}
"""
REVOKE = "mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
LIST = "{ apiKeys(first: 100) { edges { node { id name scopes lastUsedAt } } pageInfo { hasNextPage } } }"
USERS = "{ users(first: 1) { edges { node { name } } } }"


async def test_a_key_created_by_an_admin_works_on_another_gateway_until_revoked(
    make_gateway, connection
):
    await make_user(connection, name="Ada")
    first = await make_gateway()
    second = await make_gateway()
    admin = first.token("admin", ADMIN, "users:read")
    created = await first.execute(
        CREATE,
        {"input": {"name": "Acme feed", "scopes": ["users:read"], "owner": "Acme"}},
        token=admin,
    )
    key = created.data["createApiKey"]["key"]
    key_id = created.data["createApiKey"]["apiKey"]["id"]
    assert key.startswith(f"mfk_{key_id}_")
    assert created.data["createApiKey"]["apiKey"]["owner"] == "Acme"

    used = await second.execute(USERS, headers=key_header(key))
    assert used.status == 200
    assert used.data["users"]["edges"][0]["node"]["name"] == "Ada"

    revoked = await first.execute(REVOKE, {"id": key_id}, token=admin)
    assert revoked.data["revokeApiKey"]["revokedAt"] is not None
    started = time.monotonic()
    while True:
        refused = await second.execute(USERS, headers=key_header(key))
        if refused.status == 401 or time.monotonic() - started > 1.0:
            break
        await asyncio.sleep(0.05)

    assert refused.status == 401
    assert refused.codes == ["UNAUTHENTICATED"]
    assert refused.errors[0]["message"] == "API key revoked"


async def test_an_expired_key_is_refused(make_gateway, settings: Settings, database):
    secret = "A" * 40
    await store.insert_api_key(
        database,
        key_id="expired00001",
        secret_hash=hash_secret(load_pepper(None, settings.data_dir), secret),
        name="old",
        owner=None,
        scopes=("users:read",),
        budget=None,
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    gateway = await make_gateway()
    response = await gateway.execute(USERS, headers=key_header(f"mfk_expired00001_{secret}"))

    assert response.status == 401
    assert response.errors[0]["message"] == "API key expired"
    assert response.headers["WWW-Authenticate"].startswith('ApiKey header="X-API-Key"')


async def test_a_valid_key_id_with_a_wrong_secret_is_refused(make_gateway):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    key_id, secret = parse_key(key)
    wrong = f"mfk_{key_id}_{secret[:-1]}{'b' if secret[-1] == 'a' else 'a'}"
    response = await gateway.execute(USERS, headers=key_header(wrong))

    assert response.status == 401
    assert response.codes == ["UNAUTHENTICATED"]
    assert response.errors[0]["message"] == "invalid API key"


async def test_an_unknown_key_id_reads_like_a_wrong_secret(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(USERS, headers=key_header("mfk_nosuchkey000_" + "x" * 40))

    assert response.status == 401
    assert response.errors[0]["message"] == "invalid API key"


async def test_guessed_key_ids_are_remembered_so_they_cost_one_lookup(make_gateway):
    guess = "mfk_nosuchkey001_" + "x" * 40
    gateway = await make_gateway()
    await gateway.execute(USERS, headers=key_header(guess))
    responses_and_counts = [
        await gateway.counted(USERS, headers=key_header(guess)) for _ in range(5)
    ]

    assert [response.status for response, _ in responses_and_counts] == [401] * 5
    assert [statements for _, statements in responses_and_counts] == [0] * 5


async def test_a_malformed_key_is_refused(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(USERS, headers=key_header("not-a-key"))

    assert response.status == 401
    assert "malformed API key" in response.errors[0]["message"]


@pytest.mark.parametrize("parameter", ["api_key", "apikey", "key", "token"])
async def test_a_key_in_the_query_string_is_refused_and_never_logged(
    make_gateway, caplog: pytest.LogCaptureFixture, parameter: str
):
    caplog.set_level(logging.DEBUG)
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    response = await gateway.http.get(
        "/graphql",
        params={"query": USERS, parameter: key},
        headers={"apollo-require-preflight": "true"},  # past CSRF prevention to the check
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "not accepted in the URL" in response.json()["errors"][0]["message"]
    _, secret = parse_key(key)
    gateway_lines = [
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))  # the test's own client
    ]
    assert not any(secret in line for line in gateway_lines)
    assert secret not in response.text


def logged_like_uvicorn(app: ASGIApp) -> ASGIApp:
    """``app`` with the access-log line uvicorn writes after each request (same logger, format
    and arguments), which the in-process test transport does not produce."""
    access = logging.getLogger("uvicorn.access")

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await app(scope, receive, sending)
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(scope),  # type: ignore[arg-type]
            scope["method"],
            get_path_with_query_string(scope),  # type: ignore[arg-type]
            scope["http_version"],
            status,
        )

    return logged


@pytest.mark.parametrize(
    "encode",
    [lambda key: key.replace("_", "%5F"), lambda key: "%6D" + key[1:]],
    ids=["mfk%5F", "%6Dfk_"],
)
async def test_a_percent_encoded_key_in_the_query_string_is_refused_and_never_logged(
    make_gateway,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    encode: Callable[[str], str],
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    access = logging.getLogger("uvicorn.access")  # configured by the test servers' uvicorn:
    monkeypatch.setattr(access, "handlers", [caplog.handler])  # its lines go to caplog instead
    filters = uvicorn_log_config()["filters"]
    caplog.handler.addFilter(filters["redact_api_keys"]["()"]())  # as on uvicorn's handlers
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=logged_like_uvicorn(gateway.app), client=("203.0.113.7", 4711)
        ),
        base_url="http://gateway.test",
    ) as http:
        response = await http.get(
            f"/graphql?query=%7B__typename%7D&api_key={encode(key)}",
            headers={"apollo-require-preflight": "true"},
        )

    assert response.status_code == 401
    assert "not accepted in the URL" in response.json()["errors"][0]["message"]
    key_id, secret = parse_key(key)
    access_lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "uvicorn.access" and "/graphql" in record.getMessage()
    ]
    assert access_lines == [
        f'203.0.113.7:4711 - "GET /graphql?query=%7B__typename%7D&api_key=mfk_{key_id}_[REDACTED] '
        'HTTP/1.1" 401'
    ]
    assert not any(
        secret in record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))  # the test's own client
    )


async def test_a_key_is_not_accepted_as_a_bearer_token(make_gateway):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(USERS, headers={"Authorization": f"Bearer {key}"})

    assert response.status == 401
    assert "X-API-Key" in response.errors[0]["message"]


async def test_a_request_with_both_a_token_and_a_key_is_refused(make_gateway):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(
        USERS, token=gateway.token("someone", "users:read"), headers=key_header(key)
    )

    assert response.status == 401
    assert response.errors[0]["message"] == "send either Authorization or X-API-Key, not both"


async def test_a_key_calling_a_field_outside_its_scopes_is_forbidden_and_siblings_are_served(
    make_gateway, connection
):
    user = await make_user(connection, name="Grace")
    await make_order(connection, user)
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(
        "{ users(first: 1) { edges { node { name email } } } }", headers=key_header(key)
    )

    assert response.status == 200
    assert response.data["users"]["edges"][0]["node"] == {"name": "Grace", "email": None}
    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["path"] == ["users", "edges", 0, "node", "email"]
    assert response.errors[0]["message"] == "Missing scope: needs users:email"


async def test_a_partner_has_no_me_and_carries_exactly_its_keys_scopes(make_gateway):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read", "content:read")
    principal = await key_service(gateway).authenticate(key)
    response = await gateway.execute("{ me { name } }", headers=key_header(key))

    assert principal.kind == "partner"
    assert principal.subject == parse_key(key)[0]
    assert principal.scopes == {"users:read", "content:read"}
    assert response.data == {"me": None}
    assert response.errors == []


async def test_last_use_is_recorded_at_most_once_a_minute(make_gateway, connection):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read")
    key_id, _ = parse_key(key)
    await gateway.execute("{ me { name } }", headers=key_header(key))
    first_use = (
        await connection.execute(select(api_keys.c.last_used_at).where(api_keys.c.key_id == key_id))
    ).scalar_one()
    await gateway.execute("{ me { name } }", headers=key_header(key))
    second_use = (
        await connection.execute(select(api_keys.c.last_used_at).where(api_keys.c.key_id == key_id))
    ).scalar_one()

    assert first_use is not None
    assert second_use == first_use


async def test_only_admins_manage_keys(make_gateway):
    gateway = await make_gateway()
    partner = await issue_key(gateway, "users:read")
    listed = await gateway.execute(LIST, headers=key_header(partner))
    created = await gateway.execute(
        CREATE,
        {"input": {"name": "x", "scopes": ["users:read"]}},
        token=gateway.token("someone", "users:read"),
    )
    anonymous = await gateway.execute(LIST)

    assert listed.codes == ["FORBIDDEN"]
    assert created.codes == ["FORBIDDEN"]
    assert anonymous.codes == ["UNAUTHENTICATED"]


async def test_listing_keys_never_shows_a_secret(make_gateway):
    gateway = await make_gateway()
    key = await issue_key(gateway, "users:read", name="listed")
    response = await gateway.execute(LIST, token=gateway.token("admin", ADMIN))

    key_id, secret = parse_key(key)
    nodes = [edge["node"] for edge in response.data["apiKeys"]["edges"]]
    assert {"id": key_id, "name": "listed", "scopes": ["users:read"], "lastUsedAt": None} in nodes
    assert secret not in str(response.body)


async def test_creating_a_key_checks_its_input(make_gateway):
    gateway = await make_gateway()
    admin = gateway.token("admin", ADMIN, "users:read")
    unknown_scope = await gateway.execute(
        CREATE, {"input": {"name": "x", "scopes": ["everything"]}}, token=admin
    )
    both_expiries = await gateway.execute(
        CREATE,
        {
            "input": {
                "name": "x",
                "scopes": ["users:read"],
                "expiresIn": "90d",
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        },
        token=admin,
    )
    with_expiry = await gateway.execute(
        CREATE,
        {"input": {"name": "x", "scopes": ["users:read"], "expiresIn": "90d", "budget": 50}},
        token=admin,
    )

    assert unknown_scope.codes == ["BAD_USER_INPUT"]
    assert both_expiries.codes == ["BAD_USER_INPUT"]
    expires_at = datetime.fromisoformat(with_expiry.data["createApiKey"]["apiKey"]["expiresAt"])
    assert timedelta(days=89) < expires_at - datetime.now(UTC) <= timedelta(days=90)
    assert with_expiry.data["createApiKey"]["apiKey"]["budget"] == 50


async def test_revoking_an_unknown_key_is_not_found(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(
        REVOKE, {"id": "nosuchkey000"}, token=gateway.token("a", ADMIN)
    )

    assert response.codes == ["NOT_FOUND"]


async def test_keys_are_listed_oldest_first_a_page_at_a_time(make_gateway):
    page = "query($after: String) { apiKeys(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }"
    gateway = await make_gateway()
    for name in ("one", "two", "three"):
        await issue_key(gateway, "users:read", name=name)
    admin = gateway.token("admin", ADMIN)
    first = await gateway.execute(page, token=admin)
    cursor = first.data["apiKeys"]["pageInfo"]["endCursor"]
    second = await gateway.execute(page, {"after": cursor}, token=admin)
    bad_cursor = await gateway.execute(page, {"after": "nonsense"}, token=admin)

    assert [edge["node"]["name"] for edge in first.data["apiKeys"]["edges"]] == ["one", "two"]
    assert first.data["apiKeys"]["pageInfo"]["hasNextPage"] is True
    assert [edge["node"]["name"] for edge in second.data["apiKeys"]["edges"]] == ["three"]
    assert second.data["apiKeys"]["pageInfo"]["hasNextPage"] is False
    assert bad_cursor.codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "expiry",
    [
        {"expiresIn": "99999999999d"},  # overflowed timedelta
        {"expiresIn": "3000000d"},  # overflowed the datetime
        {"expiresIn": "3651d"},
        {"expiresAt": "9999-12-31T23:59:59-05:00"},  # past year 9999 in UTC
        {"expiresAt": "2199-01-01T00:00:00Z"},
    ],
)
async def test_a_key_lifetime_beyond_ten_years_is_bad_user_input(
    make_gateway, expiry: dict[str, str]
):
    gateway = await make_gateway()
    response = await gateway.execute(
        CREATE,
        {"input": {"name": "x", "scopes": ["content:read"], **expiry}},
        token=gateway.token("admin", ADMIN, "content:read"),
    )

    assert response.data is None
    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["message"] == "a key may live at most 3650 days (10 years)"


async def test_a_key_may_live_ten_years(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(
        CREATE,
        {"input": {"name": "x", "scopes": ["content:read"], "expiresIn": "3650d"}},
        token=gateway.token("admin", ADMIN, "content:read"),
    )

    expires_at = datetime.fromisoformat(response.data["createApiKey"]["apiKey"]["expiresAt"])
    assert expires_at - datetime.now(UTC) > timedelta(days=3649)


async def test_a_key_expiring_in_the_past_is_bad_user_input(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(
        CREATE,
        {
            "input": {
                "name": "x",
                "scopes": ["content:read"],
                "expiresAt": "2001-01-01T00:00:00Z",
            }
        },
        token=gateway.token("admin", ADMIN, "content:read"),
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["message"] == "expiresAt must be in the future"


async def test_an_admin_cannot_create_a_key_with_scopes_it_does_not_hold(make_gateway, connection):
    gateway = await make_gateway()
    response = await gateway.execute(
        CREATE,
        {
            "input": {
                "name": "esc",
                "scopes": [ADMIN, "orders:read:all", "operations:any"],
            }
        },
        token=gateway.token("admin", ADMIN),
    )
    written = (
        await connection.execute(select(api_keys.c.key_id).where(api_keys.c.name == "esc"))
    ).all()

    assert response.data is None
    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["message"].endswith("missing: operations:any, orders:read:all")
    assert written == []


async def test_an_admin_may_create_a_key_with_scopes_it_holds(make_gateway):
    gateway = await make_gateway()
    response = await gateway.execute(
        CREATE,
        {"input": {"name": "subset", "scopes": [ADMIN, "orders:read"]}},
        token=gateway.token("admin", ADMIN, "orders:read", "users:read"),
    )

    assert response.errors == []
    assert response.data["createApiKey"]["apiKey"]["scopes"] == [ADMIN, "orders:read"]


async def test_a_caller_without_the_admin_scope_loses_only_the_api_keys_field(
    make_gateway, connection
):
    await make_user(connection, name="Ada")
    gateway = await make_gateway()
    response = await gateway.execute(
        "{ users(first: 1) { edges { node { name } } } apiKeys(first: 1) { edges { node { id } } } }",
        token=gateway.token("reader", "users:read"),
    )

    assert response.status == 200
    assert response.data["users"]["edges"][0]["node"]["name"] == "Ada"
    assert response.data["apiKeys"] is None
    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["path"] == ["apiKeys"]
