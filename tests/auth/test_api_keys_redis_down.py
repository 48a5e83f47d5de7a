"""Specifications of authentication while Redis is unreachable: the cache only saves work, so
keys are checked against the database and opaque tokens against the introspection endpoint."""

from __future__ import annotations

import logging

import pytest

from tests.auth.introspection_server import CLIENT_ID, CLIENT_SECRET, IntrospectionServer
from tests.factories import make_user
from tests.helpers import issue_key, key_service
from tests.services import closed_loopback_port

USERS = "{ users(first: 1) { edges { node { name } } } }"


def redis_down() -> dict[str, str]:
    return {"redis_url": f"redis://127.0.0.1:{closed_loopback_port()}/0"}


async def test_a_valid_key_is_accepted_while_redis_is_down(make_gateway, connection):
    await make_user(connection, name="Ada")
    gateway = await make_gateway(**redis_down())
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(USERS, headers={"X-API-Key": key})

    assert response.status == 200
    assert response.data["users"]["edges"][0]["node"]["name"] == "Ada"


async def test_a_wrong_secret_is_still_refused_while_redis_is_down(make_gateway):
    gateway = await make_gateway(**redis_down())
    key = await issue_key(gateway, "users:read")
    response = await gateway.execute(USERS, headers={"X-API-Key": key[:-1] + "0"})

    assert response.status == 401
    assert response.errors[0]["message"] == "invalid API key"


async def test_a_key_revoked_while_redis_is_down_is_refused_from_its_row(make_gateway):
    gateway = await make_gateway(**redis_down())
    key = await issue_key(gateway, "users:read")
    before = await gateway.execute(USERS, headers={"X-API-Key": key})
    key_id = key.split("_")[1]
    await key_service(gateway).revoke(key_id)
    after = await gateway.execute(USERS, headers={"X-API-Key": key})

    assert before.status == 200
    assert after.status == 401
    assert after.errors[0]["message"] == "API key revoked"


async def test_an_unreachable_key_cache_is_warned_about_once_a_minute(
    make_gateway, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="manifold.auth")
    gateway = await make_gateway(**redis_down())
    key = await issue_key(gateway, "users:read")
    for _ in range(3):
        assert (await gateway.execute(USERS, headers={"X-API-Key": key})).status == 200

    warnings = [r for r in caplog.records if "API key cache unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert key not in caplog.text


async def test_an_opaque_token_is_introspected_while_redis_is_down(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",))
    gateway = await make_gateway(
        oauth_introspection_url=introspection.url,
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        **redis_down(),
    )
    first = await gateway.execute("{ me { name } }", token=token)
    second = await gateway.execute("{ me { name } }", token=token)

    assert first.status == 200
    assert second.status == 200
    assert introspection.requests == 2  # nothing cached: the endpoint answers each time
