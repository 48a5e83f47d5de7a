"""Specifications of authentication over HTTP: who may call, and what a bad credential costs.

A credential that is present but unusable fails the whole request with 401 before any resolver
(and so any SQL) runs; no credential at all is the anonymous caller, who may read public fields
and is refused gated ones field by field.
"""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import RSAKey

from tests.factories import make_user
from tests.helpers import global_id
from tests.idp import hmac_token, unsigned_token

ME = "{ me { id name } }"


async def assert_rejected_before_execution(gateway, headers: dict[str, str], reason: str) -> None:
    """401 per RFC 6750 saying why, an UNAUTHENTICATED error, no data and not one SQL statement."""
    response, statements = await gateway.counted(ME, headers=headers)

    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert reason in response.headers["WWW-Authenticate"]
    assert response.codes == ["UNAUTHENTICATED"]
    assert reason in response.errors[0]["message"]
    assert "data" not in response.body
    assert statements == 0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_expired_token_is_rejected_for_the_whole_request(
    gateway, connection, identity_provider
):
    user = await make_user(connection)
    now = int(time.time())
    token = identity_provider.mint(
        subject=user.subject, iat=now - 3600, nbf=now - 3600, exp=now - 600
    )

    await assert_rejected_before_execution(gateway, bearer(token), "expired")


async def test_token_for_another_audience_is_rejected(gateway, connection, identity_provider):
    user = await make_user(connection)
    token = identity_provider.mint(subject=user.subject, audience="https://other-api.example")

    await assert_rejected_before_execution(gateway, bearer(token), "wrong audience")


async def test_token_from_another_issuer_is_rejected(gateway, connection, identity_provider):
    user = await make_user(connection)
    token = identity_provider.mint(subject=user.subject, iss="https://evil-idp.example")

    await assert_rejected_before_execution(gateway, bearer(token), "wrong issuer")


async def test_unsigned_alg_none_token_is_rejected(gateway, connection, identity_provider):
    user = await make_user(connection)
    claims = identity_provider.claims(subject=user.subject, scopes=["users:email"])
    token = unsigned_token(claims, header={"kid": identity_provider.kid})

    await assert_rejected_before_execution(gateway, bearer(token), "algorithm not allowed")


async def test_hs256_token_keyed_with_the_idp_public_key_is_rejected(
    gateway, connection, identity_provider
):
    user = await make_user(connection)
    claims = identity_provider.claims(subject=user.subject, scopes=["users:email"])
    token = hmac_token(
        claims, identity_provider.public_pem(), header={"kid": identity_provider.kid}
    )

    await assert_rejected_before_execution(gateway, bearer(token), "algorithm not allowed")


async def test_token_signed_by_a_key_the_idp_does_not_publish_is_rejected(
    gateway, connection, identity_provider
):
    user = await make_user(connection)
    stranger = RSAKey.generate_key(2048, private=True, auto_kid=True)
    token = identity_provider.mint(subject=user.subject, key=stranger)

    await assert_rejected_before_execution(gateway, bearer(token), "unknown signing key")


async def test_non_bearer_authorization_scheme_is_rejected(gateway):
    await assert_rejected_before_execution(
        gateway, {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}, "unsupported authorization scheme"
    )


async def test_garbage_bearer_token_is_rejected(gateway):
    await assert_rejected_before_execution(gateway, bearer("not-a-jwt-at-all"), "malformed")


async def test_missing_authorization_header_is_the_anonymous_caller(gateway):
    response = await gateway.execute("{ me { id } }")

    assert response.status == 200
    assert response.data == {"me": None}
    assert response.errors == []


async def test_anonymous_caller_gets_a_gated_field_as_null_with_unauthenticated(
    gateway, connection
):
    user = await make_user(connection)

    response = await gateway.execute(
        "query($id: ID!) { user(id: $id) { name } }", {"id": global_id("User", user.id)}
    )

    assert response.status == 200
    assert response.data == {"user": None}
    assert response.codes == ["UNAUTHENTICATED"]
    assert response.errors[0]["path"] == ["user"]


async def test_token_without_users_email_gets_email_null_and_forbidden(gateway, connection):
    user = await make_user(connection, name="Ada")

    response = await gateway.execute("{ me { name email } }", token=gateway.token(user.subject))

    assert response.status == 200
    assert response.data == {"me": {"name": "Ada", "email": None}}
    assert response.codes == ["FORBIDDEN"]
    assert response.errors[0]["path"] == ["me", "email"]


async def test_scopes_in_a_scp_list_claim_are_granted(gateway, connection, identity_provider):
    user = await make_user(connection)
    token = identity_provider.mint(subject=user.subject, scope=None, scp=["users:email"])

    response = await gateway.execute("{ me { email } }", token=token)

    assert response.errors == []
    assert response.data == {"me": {"email": user.email}}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda idp: idp.mint(exp=int(time.time()) - 600, iat=None, nbf=None), id="expired"
        ),
        pytest.param(lambda idp: idp.mint(iss="https://evil-idp.example"), id="wrong-issuer"),
        pytest.param(
            lambda idp: unsigned_token(idp.claims(), header={"kid": idp.kid}), id="alg-none"
        ),
        pytest.param(lambda idp: idp.mint()[:-12] + "AAAAAAAAAAAA", id="tampered-signature"),
        pytest.param(lambda idp: "secret-garbage-token-0123456789", id="garbage"),
    ],
)
async def test_rejection_never_echoes_the_token(gateway, identity_provider, forge):
    token = forge(identity_provider)

    response = await gateway.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert token not in response.text
    assert all(token not in value for value in response.headers.values())
    for part in token.split("."):
        if len(part) >= 8:
            assert part not in response.text
            assert part not in response.headers["WWW-Authenticate"]


# --- ambiguous and malformed credentials ------------------------------------------------------


async def _post_with(gateway, headers: list[tuple[str, str]]):
    """POST with exactly these header lines, repeats included (a dict would merge them)."""
    return await gateway.http.post(
        "/graphql",
        json={"query": ME},
        headers=[("Content-Type", "application/json"), *headers],
    )


async def test_two_authorization_headers_are_refused_as_ambiguous(gateway):
    token = gateway.token("two-headers", "users:read")
    before = gateway.statements()

    response = await _post_with(
        gateway, [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer other")]
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_request"')
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()
    assert gateway.statements() == before


async def test_the_same_token_sent_twice_is_refused_too(gateway):
    token = gateway.token("twice", "users:read")

    response = await _post_with(
        gateway, [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    )

    assert response.status_code == 401


async def test_two_api_key_headers_are_refused_with_an_api_key_challenge(gateway):
    response = await _post_with(
        gateway, [("X-API-Key", "mfk_aaaaaaaaaaaa_" + "a" * 40), ("X-API-Key", "mfk_b")]
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(
        'ApiKey header="X-API-Key", error="invalid_request"'
    )


async def test_a_malformed_api_key_gets_an_api_key_challenge_not_bearer(gateway):
    response = await _post_with(gateway, [("X-API-Key", "not-a-key")])

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(
        'ApiKey header="X-API-Key", error="invalid_key"'
    )


@pytest.mark.parametrize(
    "header",
    [{"alg": ["RS256"]}, {"alg": {"name": "RS256"}}, {"kid": {"k": 1}}, {"crit": 5}],
    ids=["alg-list", "alg-object", "kid-object", "crit-number"],
)
async def test_a_header_member_of_an_unexpected_json_type_is_a_401(
    gateway, identity_provider, header
):
    token = identity_provider.forge(
        {"alg": "RS256", "kid": identity_provider.kid, **header}, identity_provider.claims()
    )

    await assert_rejected_before_execution(gateway, bearer(token), "invalid token")


async def test_a_subject_with_a_nul_byte_is_a_401_before_any_sql(gateway, identity_provider):
    token = identity_provider.forge(
        {"alg": "RS256", "kid": identity_provider.kid},
        identity_provider.claims(subject="user\x00one", scopes=("orders:read",)),
    )

    await assert_rejected_before_execution(gateway, bearer(token), "invalid claim sub")
