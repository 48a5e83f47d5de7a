"""What a shared cache (a CDN in front of GET and persisted queries) may keep of /graphql: an
answer depends on the caller's credentials, so it varies on them, a credentialed answer is
private and never stored, refusals are never stored, and anonymous successes stay cacheable."""

from __future__ import annotations

from tests.helpers import codes

ME = "{ me { id } }"
PUBLIC = "{ __typename }"


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",")}


async def test_an_answer_to_a_bearer_token_is_private_and_not_stored(gateway):
    response, _ = await gateway.get(
        {"query": ME},
        headers={"Authorization": f"Bearer {gateway.token('protection-subject', 'users:read')}"},
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


async def test_an_answer_to_a_posted_bearer_token_is_private_and_not_stored(gateway):
    response, _ = await gateway.post(
        {"query": ME}, token=gateway.token("protection-subject", "users:read")
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


async def test_an_answer_to_an_api_key_header_is_private_and_not_stored(gateway):
    response, _ = await gateway.get({"query": PUBLIC}, headers={"X-API-Key": "mfk_nokey_nope"})

    assert "private" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]


async def test_every_graphql_answer_varies_on_origin_and_the_credential_headers(gateway):
    response, _ = await gateway.get({"query": PUBLIC}, headers={"Origin": "https://shop.test"})

    assert {"origin", "authorization", "x-api-key"} <= vary(response)


async def test_a_credentialed_answer_varies_on_the_credential_headers(gateway):
    response, _ = await gateway.post(
        {"query": ME}, token=gateway.token("protection-subject", "users:read")
    )

    assert {"authorization", "x-api-key"} <= vary(response)


async def test_an_anonymous_successful_get_stays_cacheable(gateway):
    response, _ = await gateway.get({"query": PUBLIC})

    assert response.status_code == 200
    assert "Cache-Control" not in response.headers
    assert {"authorization", "x-api-key"} <= vary(response)


async def test_a_401_for_a_bad_token_is_not_stored(gateway):
    response, _ = await gateway.post({"query": ME}, headers={"Authorization": "Bearer garbage"})

    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]
    assert "no-store" in response.headers["Cache-Control"]


async def test_a_401_for_a_bad_api_key_is_not_stored(gateway):
    response, _ = await gateway.post({"query": ME}, headers={"X-API-Key": "mfk_nokey_nope"})

    assert response.status_code == 401
    assert "no-store" in response.headers["Cache-Control"]


async def test_a_401_for_a_key_in_the_url_is_not_stored(gateway):
    response, _ = await gateway.get({"query": ME, "api_key": "abcdefabcdef_secret"})

    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"
