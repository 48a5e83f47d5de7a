"""Tokens whose header and claims hold JSON of any type, validly signed: each is a principal or
a 401, never a crash. Pure: the validator on a static key set, no services."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import KeySet

from auth.jwks import StaticKeySource
from auth.principal import Principal
from auth.tokens import TokenValidator
from contract.errors import AuthenticationError
from contract.text import first_unsafe_character
from tests.idp import LocalIdentityProvider
from tests.strategies import examples, json_values

PROVIDER = LocalIdentityProvider()
VALIDATOR = TokenValidator(
    key_source=StaticKeySource(KeySet([PROVIDER.signing_key])),
    issuer=PROVIDER.issuer,
    audience=PROVIDER.audience,
    algorithms=["RS256"],
)


def _header(**members: Any) -> dict[str, Any]:
    return {"alg": "RS256", "kid": PROVIDER.kid, **members}


async def _outcome(token: str) -> Principal | AuthenticationError:
    try:
        return await VALIDATOR.validate(token)
    except AuthenticationError as error:
        return error


@pytest.mark.parametrize(
    "alg", [["RS256"], {"RS256": True}, 256, None, True, "none", "HS256", "RS256\x00"]
)
async def test_an_alg_of_any_json_type_is_a_401(alg):
    token = PROVIDER.forge(_header(alg=alg), PROVIDER.claims())

    with pytest.raises(AuthenticationError):
        await VALIDATOR.validate(token)


@pytest.mark.parametrize("subject", ["a\x00b", "\ud800", "tab\tin", "\x1b[31mred", 7, [], {}, ""])
async def test_a_subject_that_is_not_storable_text_is_a_401(subject):
    token = PROVIDER.forge(_header(), PROVIDER.claims(subject="x") | {"sub": subject})

    with pytest.raises(AuthenticationError, match="invalid claim sub"):
        await VALIDATOR.validate(token)


@pytest.mark.parametrize("scope", ["users:read\x00", ["users:read"], 3, {"a": 1}])
async def test_a_scope_claim_that_is_not_text_is_a_401(scope):
    token = PROVIDER.forge(_header(), PROVIDER.claims() | {"scope": scope})

    with pytest.raises(AuthenticationError, match="invalid claim scope"):
        await VALIDATOR.validate(token)


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


async def test_claims_nested_past_the_json_decoder_are_a_401():
    claims = orjson.dumps(PROVIDER.claims())[:-1] + b',"x":' + _nested(5000) + b"}"
    token = PROVIDER.forge(_header(), claims)

    with pytest.raises(AuthenticationError):
        await VALIDATOR.validate(token)


async def test_a_header_nested_past_the_decoder_is_a_401():
    header = b'{"alg":"RS256","kid":"' + PROVIDER.kid.encode() + b'","x":' + _nested(5000) + b"}"
    token = PROVIDER.forge(header, PROVIDER.claims())

    with pytest.raises(AuthenticationError):
        await VALIDATOR.validate(token)


@pytest.mark.parametrize("exp", [10**400, 1e308, 2**63])
async def test_an_exp_beyond_any_float_is_a_token_that_never_expires_not_a_crash(exp):
    token = PROVIDER.forge(_header(), PROVIDER.claims() | {"exp": exp})

    assert (await VALIDATOR.validate(token)).subject == "user-1"
    assert (await VALIDATOR.validate(token)).subject == "user-1"  # and remembered as such


async def test_a_well_formed_forged_token_is_accepted_so_the_forgery_helper_signs_for_real():
    principal = await VALIDATOR.validate(PROVIDER.forge(_header(), PROVIDER.claims()))

    assert principal.subject == "user-1"


@given(header=json_values, claims=json_values)
@examples()
async def test_any_json_header_and_claims_are_a_principal_or_a_401(header, claims):
    outcome = await _outcome(PROVIDER.forge(header, claims))

    assert isinstance(outcome, Principal | AuthenticationError)


@given(
    members=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "cty", "crit", "jku", "x5c", "b64", "zip", "jwk"]),
        json_values,
        max_size=3,
    ),
    overrides=st.dictionaries(
        st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "scope", "scp", "jti"]),
        json_values,
        max_size=3,
    ),
)
@examples()
async def test_valid_tokens_with_any_members_retyped_are_a_principal_or_a_401(members, overrides):
    outcome = await _outcome(PROVIDER.forge(_header(**members), PROVIDER.claims() | overrides))

    assert isinstance(outcome, Principal | AuthenticationError)
    if isinstance(outcome, Principal):
        assert isinstance(outcome.subject, str)
        assert first_unsafe_character(outcome.subject) is None
