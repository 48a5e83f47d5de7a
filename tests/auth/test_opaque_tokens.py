"""Specifications of opaque bearer tokens, checked against a local RFC 7662 endpoint."""

from __future__ import annotations

import asyncio

from gateway.settings import Settings
from tests.auth.introspection_server import CLIENT_ID, CLIENT_SECRET, IntrospectionServer
from tests.factories import make_user
from tests.services import closed_loopback_port

USERS = "{ users(first: 1) { edges { node { name } } } }"


def configured(introspection: IntrospectionServer, **overrides):
    return {
        "oauth_introspection_url": introspection.url,
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        **overrides,
    }


async def test_an_active_opaque_token_grants_its_scopes(
    make_gateway, introspection: IntrospectionServer, connection
):
    await make_user(connection, name="Opal")
    token = introspection.issue(subject="opaque-1", scopes=("users:read",))
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute(USERS, token=token)
    missing_scope = await gateway.execute(
        "{ users(first: 1) { edges { node { email } } } }", token=token
    )

    assert response.status == 200
    assert response.data["users"]["edges"][0]["node"]["name"] == "Opal"
    assert missing_scope.codes == ["FORBIDDEN"]
    assert introspection.unauthorized == 0


async def test_an_inactive_token_is_refused(make_gateway, introspection: IntrospectionServer):
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute(USERS, token="unknown-opaque-token")

    assert response.status == 401
    assert response.codes == ["UNAUTHENTICATED"]
    assert response.errors[0]["message"] == "invalid token: not active"


async def test_results_are_cached_so_one_token_is_introspected_once(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",))
    gateway = await make_gateway(**configured(introspection))
    other = await make_gateway(**configured(introspection))
    for _ in range(3):
        assert (await gateway.execute("{ me { name } }", token=token)).status == 200
    assert (await other.execute("{ me { name } }", token=token)).status == 200  # shared cache

    assert introspection.requests == 1


async def test_a_cached_result_never_outlives_the_tokens_exp(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",), ttl=1)
    gateway = await make_gateway(**configured(introspection, oauth_introspection_cache_seconds=60))
    before = await gateway.execute("{ me { name } }", token=token)
    await asyncio.sleep(1.2)
    after = await gateway.execute("{ me { name } }", token=token)

    assert before.status == 200
    assert after.status == 401
    assert introspection.requests == 2


async def test_wrong_client_credentials_refuse_the_token(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",))
    gateway = await make_gateway(
        **configured(introspection, oauth_client_secret="wrong-secret-0123456789")
    )
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 401
    assert introspection.unauthorized == 1
    assert CLIENT_SECRET not in str(response.body)


async def test_jwts_are_still_verified_locally(make_gateway, introspection: IntrospectionServer):
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute(
        "{ me { name } }", token=gateway.token("jwt-user", "users:read")
    )

    assert response.status == 200
    assert introspection.requests == 0


async def test_without_introspection_an_opaque_token_is_refused(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",))
    gateway = await make_gateway()
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 401
    assert introspection.requests == 0


async def test_an_unreachable_identity_provider_is_503_so_clients_retry_and_keep_their_token(
    make_gateway, introspection: IntrospectionServer
):
    unreachable = f"http://127.0.0.1:{closed_loopback_port()}/introspect"
    gateway = await make_gateway(**configured(introspection, oauth_introspection_url=unreachable))
    response, statements = await gateway.counted(USERS, token="some-opaque-token")

    assert response.status == 503
    assert response.codes == ["UPSTREAM_UNAVAILABLE"]
    assert response.headers["Retry-After"] == "5"
    assert statements == 0


async def test_a_token_introspected_for_another_audience_is_refused(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",), aud="billing-api")
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 401
    assert response.codes == ["UNAUTHENTICATED"]
    assert response.errors[0]["message"] == "invalid token: invalid claim aud"


async def test_a_token_whose_audiences_include_the_gateways_is_accepted(
    make_gateway, introspection: IntrospectionServer, settings: Settings
):
    token = introspection.issue(
        scopes=("users:read",), aud=["billing-api", settings.oauth_audience]
    )
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 200


async def test_a_token_whose_audience_list_omits_the_gateways_is_refused(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",), aud=["billing-api", "reports-api"])
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 401
    assert response.errors[0]["message"] == "invalid token: invalid claim aud"


async def test_a_token_introspected_from_another_issuer_is_refused(
    make_gateway, introspection: IntrospectionServer
):
    token = introspection.issue(scopes=("users:read",), iss="https://other-idp.example")
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 401
    assert response.errors[0]["message"] == "invalid token: invalid claim iss"


async def test_a_token_introspected_from_the_configured_issuer_is_accepted(
    make_gateway, introspection: IntrospectionServer, settings: Settings
):
    assert settings.oauth_issuer is not None
    token = introspection.issue(
        scopes=("users:read",), iss=settings.oauth_issuer, aud=settings.oauth_audience
    )
    gateway = await make_gateway(**configured(introspection))
    response = await gateway.execute("{ me { name } }", token=token)

    assert response.status == 200
