"""Bearer tokens: what the gateway accepts, what it refuses, and how it fetches keys.

Keys are fetched over real HTTP from a loopback identity provider (``tests/idp.py``) so that
caching, rotation and the refetch cooldown are observed as the IdP would see them.
"""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey
from starlette.datastructures import Headers

from auth.credentials import Authenticator
from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.durations import parse_duration
from auth.jwks import RemoteJwksSource
from auth.principal import Principal, PrincipalKind
from auth.tokens import TokenValidator
from contract.errors import AuthenticationError
from tests.idp import (
    AUDIENCE,
    LocalIdentityProvider,
    hmac_token,
    running_identity_provider,
    unsigned_token,
)

COOLDOWN = 30.0


class FakeClock:
    """Monotonic time the test moves by hand, so the cooldown is exercised without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def idp_server() -> Iterator[LocalIdentityProvider]:
    with running_identity_provider() as provider:
        yield provider


@pytest.fixture
def idp(idp_server: LocalIdentityProvider) -> LocalIdentityProvider:
    idp_server.reset()
    return idp_server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(
    http_client: httpx.AsyncClient, idp: LocalIdentityProvider, clock: FakeClock
) -> RemoteJwksSource:
    return RemoteJwksSource(
        client=http_client,
        url=idp.jwks_url,
        cache_seconds=3600,
        cooldown_seconds=COOLDOWN,
        clock=clock,
    )


@pytest.fixture
def validator(jwks: RemoteJwksSource, idp: LocalIdentityProvider) -> TokenValidator:
    return TokenValidator(
        key_source=jwks, issuer=idp.issuer, audience=AUDIENCE, algorithms=["RS256"]
    )


async def rejection(validator: TokenValidator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await validator.validate(token)
    return caught.value.message


# --- what a valid token yields --------------------------------------------------------------


async def test_valid_token_yields_a_user_principal_with_its_space_separated_scopes(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(subject="user-42", scopes=["orders:read", "users:read"])

    principal = await validator.validate(token)

    assert principal == Principal(
        kind=PrincipalKind.USER,
        subject="user-42",
        scopes=frozenset({"orders:read", "users:read"}),
    )


@pytest.mark.parametrize("scp", [["orders:read", "users:read"], "orders:read users:read"])
async def test_scopes_may_come_from_an_scp_claim_as_list_or_string(
    validator: TokenValidator, idp: LocalIdentityProvider, scp: list[str] | str
) -> None:
    token = idp.mint(scope=None, scp=scp)

    principal = await validator.validate(token)

    assert principal.scopes == {"orders:read", "users:read"}


async def test_an_audience_list_that_contains_ours_is_accepted(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(audience=["https://other.example", AUDIENCE])

    assert (await validator.validate(token)).subject == "user-1"


async def test_expiry_within_the_leeway_is_tolerated(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(exp=idp.claims()["iat"] - 10)

    assert (await validator.validate(token)).subject == "user-1"


async def test_a_token_without_kid_is_accepted_when_the_issuer_publishes_one_key(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(header={"kid": None})

    assert (await validator.validate(token)).subject == "user-1"


# --- what is refused --------------------------------------------------------------------------


async def test_an_expired_token_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    now = idp.claims()["iat"]
    token = idp.mint(iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    assert await rejection(validator, token) == "invalid token: expired"


async def test_a_token_for_another_audience_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(audience="https://other.example")

    assert await rejection(validator, token) == "invalid token: wrong audience"


async def test_a_token_from_another_issuer_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(iss="https://evil.example")

    assert await rejection(validator, token) == "invalid token: wrong issuer"


async def test_a_token_not_yet_valid_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(nbf=idp.claims()["iat"] + 3600)

    assert await rejection(validator, token) == "invalid token: not yet valid"


async def test_a_token_without_subject_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(sub=None)

    assert await rejection(validator, token) == "invalid token: missing claim sub"


async def test_a_token_without_expiry_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = idp.mint(exp=None)

    assert await rejection(validator, token) == "invalid token: missing claim exp"


async def test_a_token_with_an_altered_payload_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    header, _, signature = idp.mint(scopes=["orders:read"]).split(".")
    forged_payload = idp.mint(scopes=["orders:read:all"]).split(".")[1]

    message = await rejection(validator, f"{header}.{forged_payload}.{signature}")

    assert message == "invalid token: bad signature"


async def test_alg_none_is_refused_without_asking_the_idp(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = unsigned_token(idp.claims(), header={"kid": idp.kid})

    assert await rejection(validator, token) == "invalid token: algorithm not allowed"
    assert idp.jwks_requests == 0


async def test_hs256_keyed_with_the_public_key_is_refused(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    token = hmac_token(idp.claims(), idp.public_pem(), header={"kid": idp.kid})

    assert await rejection(validator, token) == "invalid token: algorithm not allowed"
    assert idp.jwks_requests == 0


async def test_a_token_without_kid_is_refused_when_the_issuer_publishes_several_keys(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    idp.rotate()
    token = idp.mint(header={"kid": None})

    assert await rejection(validator, token) == "invalid token: unknown signing key"


async def test_refusals_never_echo_the_token(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    tokens = [
        "not-a-jwt",
        "a.b.c",
        idp.mint(iss="https://evil.example"),
        idp.mint(key=RSAKey.generate_key(2048, auto_kid=True)),
    ]

    for token in tokens:
        message = await rejection(validator, token)
        assert message.startswith("invalid token: ")
        assert all(part not in message for part in token.split(".") if len(part) > 3)


@pytest.mark.parametrize("algorithms", [["HS256"], ["RS256", "none"], ["EdDSA"], []])
def test_a_validator_cannot_be_pinned_to_symmetric_or_no_algorithms(
    jwks: RemoteJwksSource, algorithms: list[str]
) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        TokenValidator(key_source=jwks, issuer="i", audience="a", algorithms=algorithms)


# --- fetching signing keys ----------------------------------------------------------------


async def test_unknown_kids_trigger_at_most_one_refetch_per_cooldown(
    validator: TokenValidator, idp: LocalIdentityProvider, clock: FakeClock
) -> None:
    await validator.validate(idp.mint())
    clock.advance(COOLDOWN + 1)
    strangers = [RSAKey.generate_key(2048, auto_kid=True) for _ in range(2)]

    for index in range(5):
        token = idp.mint(key=strangers[index % 2])
        assert await rejection(validator, token) == "invalid token: unknown signing key"

    assert idp.jwks_requests == 2  # the initial load and a single refetch


async def test_concurrent_first_tokens_share_one_fetch(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    tokens = [idp.mint(subject=f"user-{n}") for n in range(10)]

    principals = await asyncio.gather(*(validator.validate(token) for token in tokens))

    assert [p.subject for p in principals] == [f"user-{n}" for n in range(10)]
    assert idp.jwks_requests == 1


async def test_a_rotated_key_is_picked_up_on_its_first_token_after_the_cooldown(
    validator: TokenValidator, idp: LocalIdentityProvider, clock: FakeClock
) -> None:
    await validator.validate(idp.mint())
    idp.rotate()
    clock.advance(COOLDOWN)

    principal = await validator.validate(idp.mint(subject="after-rotation"))

    assert principal.subject == "after-rotation"
    assert idp.jwks_requests == 2


async def test_a_rotated_key_is_not_fetched_within_the_cooldown(
    validator: TokenValidator, idp: LocalIdentityProvider, clock: FakeClock
) -> None:
    await validator.validate(idp.mint())
    idp.rotate()
    clock.advance(COOLDOWN - 1)

    assert await rejection(validator, idp.mint()) == "invalid token: unknown signing key"
    assert idp.jwks_requests == 1


async def test_the_key_set_is_refetched_once_the_cache_expires(
    validator: TokenValidator, idp: LocalIdentityProvider, clock: FakeClock
) -> None:
    await validator.validate(idp.mint())
    clock.advance(3600)

    await validator.validate(idp.mint())

    assert idp.jwks_requests == 2


async def test_an_unreachable_idp_without_cached_keys_fails_without_naming_it(
    validator: TokenValidator, jwks: RemoteJwksSource, idp: LocalIdentityProvider
) -> None:
    idp.failing = True

    message = await rejection(validator, idp.mint())

    assert message == "signing keys unavailable"
    assert "127.0.0.1" not in message
    assert not jwks.loaded


async def test_cached_keys_keep_serving_while_the_idp_is_down(
    validator: TokenValidator, idp: LocalIdentityProvider, clock: FakeClock
) -> None:
    await validator.validate(idp.mint())
    idp.failing = True
    clock.advance(3600)

    principal = await validator.validate(idp.mint(subject="still-here"))

    assert principal.subject == "still-here"
    assert idp.jwks_requests == 2


async def test_refresh_loads_keys_for_readiness(
    jwks: RemoteJwksSource, idp: LocalIdentityProvider
) -> None:
    assert not jwks.loaded

    await jwks.refresh()

    assert jwks.loaded
    assert jwks.fetch_count == idp.jwks_requests == 1


# --- the development issuer ----------------------------------------------------------------


async def test_dev_issuer_tokens_validate_against_its_own_key_source(tmp_path: Path) -> None:
    issuer = DevIssuer.load_or_create(tmp_path)
    validator = TokenValidator(
        key_source=issuer.key_source(),
        issuer=DEV_ISSUER,
        audience=AUDIENCE,
        algorithms=["RS256"],
    )

    token = issuer.mint(subject="dev", scopes=["users:read", "orders:read"], audience=AUDIENCE)

    principal = await validator.validate(token)
    assert principal.subject == "dev"
    assert principal.scopes == {"users:read", "orders:read"}


def test_dev_issuer_key_is_persisted_private_to_its_owner_and_reused(tmp_path: Path) -> None:
    first = DevIssuer.load_or_create(tmp_path)
    second = DevIssuer.load_or_create(tmp_path)

    key_file = tmp_path / "dev-issuer-key.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second.public_jwks() == first.public_jwks()
    assert first.kid == RSAKey.import_key(json.loads(key_file.read_text())).thumbprint()


def test_dev_issuer_publishes_no_private_key_material(tmp_path: Path) -> None:
    (key,) = DevIssuer.load_or_create(tmp_path).public_jwks()["keys"]

    assert set(key) == {"kty", "n", "e", "kid", "use", "alg"}


# --- the Authorization header ----------------------------------------------------------------


async def test_no_authorization_header_means_anonymous(validator: TokenValidator) -> None:
    authenticator = Authenticator(validator=validator)

    assert await authenticator.authenticate(Headers()) == Principal.anonymous()


async def test_the_bearer_scheme_is_case_insensitive(
    validator: TokenValidator, idp: LocalIdentityProvider
) -> None:
    authenticator = Authenticator(validator=validator)
    headers = Headers({"Authorization": f"bEaReR {idp.mint(subject='u')}"})

    assert (await authenticator.authenticate(headers)).subject == "u"


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", ""])
async def test_an_unusable_authorization_header_is_refused_not_ignored(
    validator: TokenValidator, value: str
) -> None:
    authenticator = Authenticator(validator=validator)

    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(Headers({"Authorization": value}))


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), ("1h30m", 5400), (" 60 ", 60)],
)
def test_parse_duration_reads_seconds_minutes_hours_and_days(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1w", "-5m", "1.5h", "0s", "1h 30m", "٣s", "10 s"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
