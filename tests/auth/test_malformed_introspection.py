"""Introspection answers of any JSON shape are a principal or a 401, never a crash: the
introspector against the local RFC 7662 endpoint, answering what each example says."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.introspection import TokenIntrospector
from auth.principal import Principal
from contract.errors import AuthenticationError
from contract.text import first_unsafe_character
from datasources.cache import MemoryCache
from tests.auth.introspection_server import CLIENT_ID, CLIENT_SECRET, IntrospectionServer
from tests.strategies import examples, json_values

AUDIENCE = "manifold"


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
async def introspector(
    introspection: IntrospectionServer, cache: MemoryCache
) -> AsyncIterator[TokenIntrospector]:
    async with httpx.AsyncClient() as client:
        yield TokenIntrospector(
            client=client,
            url=introspection.url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            cache=cache,
            audience=AUDIENCE,
            issuer="https://idp.test",
        )


async def _outcome(introspector: TokenIntrospector, token: str) -> Principal | AuthenticationError:
    try:
        return await introspector.validate(token)
    except AuthenticationError as error:
        return error


def _active(**members: Any) -> dict[str, Any]:
    return {"active": True, "sub": "opaque-user", "scope": "users:read", **members}


@pytest.mark.parametrize("exp", [float("nan"), True, "soon", [1], {"at": 1}])
async def test_an_exp_that_is_not_a_finite_number_is_a_401(introspector, introspection, exp):
    token = introspection.answer_with(_active(exp=exp))

    with pytest.raises(AuthenticationError, match="invalid claim exp"):
        await introspector.validate(token)


@pytest.mark.parametrize("subject", ["a\x00b", "two\nlines", "\x9b"])
async def test_a_subject_with_control_characters_is_a_401(introspector, introspection, subject):
    token = introspection.answer_with(_active(sub=subject))

    with pytest.raises(AuthenticationError, match="invalid claim sub"):
        await introspector.validate(token)


async def test_a_cache_entry_that_does_not_read_is_a_miss(introspector, introspection, cache):
    token = introspection.answer_with(_active())
    principal = await introspector.validate(token)
    # What another writer could leave under the token's key in a shared cache.
    key = "introspection:" + hashlib.sha256(token.encode()).hexdigest()
    await cache.set(key, b"[1, 2", ttl_seconds=60)

    again = await introspector.validate(token)

    assert again == principal
    assert introspection.requests == 2


@given(answer=json_values)
@examples()
async def test_any_json_answer_is_a_principal_or_a_401(introspector, introspection, answer):
    outcome = await _outcome(introspector, introspection.answer_with(answer))

    assert isinstance(outcome, Principal | AuthenticationError)


@given(
    members=st.dictionaries(
        st.sampled_from(["active", "sub", "client_id", "scope", "exp", "aud", "iss"]),
        json_values,
        max_size=3,
    )
)
@examples()
async def test_active_answers_with_members_retyped_are_a_principal_or_a_401(
    introspector, introspection, members
):
    outcome = await _outcome(introspector, introspection.answer_with(_active(**members)))

    assert isinstance(outcome, Principal | AuthenticationError)
    if isinstance(outcome, Principal):
        assert isinstance(outcome.subject, str)
        assert first_unsafe_character(outcome.subject, identifier=True) is None
