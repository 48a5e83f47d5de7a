"""A validated token is remembered until its ``exp``, under a hash of it, and only then."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from auth.jwks import StaticKeySource
from auth.tokens import TokenValidator
from contract.errors import AuthenticationError

ISSUER, AUDIENCE = "https://idp.example", "manifold"
NOW = 1_800_000_000


class CountingKeys(StaticKeySource):
    """Counts key lookups: each is one full validation."""

    def __init__(self, key_set: KeySet) -> None:
        super().__init__(key_set)
        self.lookups = 0

    async def get_key_set(self, *, kid: str | None) -> KeySet:
        self.lookups += 1
        return await super().get_key_set(kid=kid)


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


def mint(key: RSAKey, **claims: object) -> str:
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "iat": NOW, "exp": NOW + 60, **claims}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key, algorithms=["RS256"])


def validator(key: RSAKey, now: list[float], keys: CountingKeys) -> TokenValidator:
    return TokenValidator(
        key_source=keys,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["RS256"],
        leeway_seconds=30,
        clock=lambda: now[0],
    )


def public(key: RSAKey) -> CountingKeys:
    return CountingKeys(KeySet([RSAKey.import_key(key.as_dict(private=False))]))


async def test_a_token_seen_before_is_not_verified_again(key):
    now, keys = [float(NOW)], public(key)
    checker = validator(key, now, keys)
    token = mint(key)

    first = await checker.validate(token)
    second = await checker.validate(token)

    assert first == second
    assert keys.lookups == 1


async def test_a_remembered_token_is_verified_again_once_it_expires(key):
    now, keys = [float(NOW)], public(key)
    checker = validator(key, now, keys)
    token = mint(key)
    await checker.validate(token)

    now[0] = NOW + 61  # past exp, inside the leeway: valid, but no longer remembered
    await checker.validate(token)

    assert keys.lookups == 2


async def test_a_refused_token_is_not_remembered(key):
    now, keys = [float(NOW)], public(key)
    checker = validator(key, now, keys)
    token = mint(key, aud="someone-else")

    for _ in range(2):
        with pytest.raises(AuthenticationError):
            await checker.validate(token)

    assert keys.lookups == 2


async def test_the_token_itself_is_never_kept(key):
    now, keys = [float(NOW)], public(key)
    checker = validator(key, now, keys)
    token = mint(key)
    await checker.validate(token)

    assert all(token.encode() not in digest for digest in checker._validated)
