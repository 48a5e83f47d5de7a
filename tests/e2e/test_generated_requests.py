"""Generated requests against the real app (PostgreSQL, Redis, the identity provider and the demo
upstreams): whatever the body, document, variables, headers or token, the answer is never a 5xx
and never shows an internal (a traceback, a file path, SQL, a driver's name).

Bounded and derandomized in CI (``tests.strategies.EXAMPLES`` per test); a soak runs more with
``GATEWAY_TEST_HYPOTHESIS_EXAMPLES=5000``. A failure prints the smallest request that shows it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import Gateway
from tests.strategies import documents, examples, header_values, hostile_text, json_values

#: What only a leaked internal would put in an answer.
INTERNALS = re.compile(
    r"Traceback \(most recent call last\)|File \"/|site-packages|\.py\", line"
    r"|sqlalchemy|asyncpg|psycopg|\bSELECT\b .* \bFROM\b|\bINSERT INTO\b|/work/|/usr/lib/",
    re.IGNORECASE,
)


@pytest.fixture
async def fuzzed(make_gateway) -> Gateway:
    """One gateway for all of a test's examples, with budgets that never run out (a 429 would
    stop later examples from reaching execution) and batches on."""
    gateway: Gateway = await make_gateway(rate_limit_budget=10**9, batch_max_operations=3)
    return gateway


def _tokens(gateway: Gateway) -> st.SearchStrategy[str]:
    provider = gateway.identity_provider
    valid = gateway.token(
        "fuzz-admin", "admin:api-keys", "users:read", "orders:read", "content:read"
    )
    forged = st.builds(
        lambda header, claims: provider.forge(
            {"alg": "RS256", "kid": provider.kid, **header}, {**provider.claims(), **claims}
        ),
        st.dictionaries(
            st.sampled_from(["alg", "kid", "typ", "crit", "b64"]), json_values, max_size=2
        ),
        st.dictionaries(
            st.sampled_from(["sub", "scope", "exp", "aud", "iss", "scp"]), json_values, max_size=2
        ),
    )
    return st.one_of(st.just(valid), forged, header_values)


def _operation() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"query": documents},
        optional={
            "variables": st.one_of(
                st.dictionaries(st.sampled_from(["v", "s", "id", "input", "n"]), json_values),
                json_values,
            ),
            "operationName": st.one_of(st.none(), st.sampled_from(["Q", ""]), hostile_text),
            "extensions": json_values,
        },
    )


def _headers(gateway: Gateway) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = st.sampled_from(
        [
            "Content-Type",
            "Accept",
            "Authorization",
            "X-API-Key",
            "Cookie",
            "apollo-require-preflight",
            "Idempotency-Key",
            "X-Request-ID",
            "Content-Length",
        ]
    )
    authorization = _tokens(gateway).map(lambda token: ("Authorization", f"Bearer {token}"))
    content_type = st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", "application/xml"]
    ).map(lambda value: ("Content-Type", value))
    accept = st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "*/*",
            "text/html",
            "application/json;q=0",
        ]
    ).map(lambda value: ("Accept", value))
    anything = st.tuples(names, header_values)
    return st.lists(st.one_of(authorization, content_type, accept, anything), max_size=4)


def _dumps(value: Any) -> bytes:
    """JSON as any client library writes it (escaping lone surrogates, which orjson refuses)."""
    return json.dumps(value).encode()


def _assert_safe(response: httpx.Response) -> None:
    body = response.content
    assert response.status_code < 500, body[:500]
    text = body.decode("utf-8", "replace")
    assert not INTERNALS.search(text), text[:500]
    if body and not response.headers.get("content-type", "").startswith("text/html"):
        orjson.loads(body)  # every answer but GraphiQL's page, refusals included, is JSON


@given(data=st.data())
@examples()
async def test_generated_posts_are_never_a_5xx_nor_show_internals(fuzzed, data):
    body = data.draw(
        st.one_of(
            _operation().map(_dumps),
            st.lists(_operation(), min_size=0, max_size=4).map(_dumps),
            json_values.map(_dumps),
            st.binary(max_size=64),
        ),
        label="body",
    )
    headers = data.draw(_headers(fuzzed), label="headers")

    response = await fuzzed.http.post(
        "/graphql", content=body, headers=[("Content-Type", "application/json"), *headers]
    )

    _assert_safe(response)


@given(data=st.data())
@examples()
async def test_generated_gets_are_never_a_5xx_nor_show_internals(fuzzed, data):
    params = data.draw(
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions", "documentId"]),
            st.one_of(documents, json_values.map(json.dumps), hostile_text),
            max_size=4,
        ),
        label="params",
    )
    headers = data.draw(_headers(fuzzed), label="headers")
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "PUT", "OPTIONS"]))

    # Encoded by hand: lone surrogates become the invalid UTF-8 an attacker can always send.
    query_string = urlencode(params, encoding="utf-8", errors="surrogatepass")
    response = await fuzzed.http.request(method, f"/graphql?{query_string}", headers=headers)

    if method == "HEAD":
        assert response.status_code < 500
    else:
        _assert_safe(response)


@given(
    query=st.sampled_from(
        [
            "query($v: String) { content(slug: $v) { id title } }",
            "query($v: String) { contents(tag: $v, first: 2) { edges { node { id } } } }",
            "query($v: String) { users(after: $v) { edges { cursor } } }",
            "query($v: String) { orders(after: $v) { edges { cursor } } }",
            "query($v: ID!) { node(id: $v) { id } }",
            "query($v: [ID!]!) { nodes(ids: $v) { id } }",
            'mutation($v: String!) { createApiKey(input: {name: $v, scopes: ["content:read"]}) '
            "{ key } }",
            "mutation($v: ID!) { revokeApiKey(id: $v) { id } }",
            "query($v: CreateApiKeyInput) { me { id } }",
        ]
    ),
    value=st.one_of(hostile_text, hostile_text, json_values),
)
@examples()
async def test_any_variable_value_reaching_sql_or_rest_is_never_a_5xx(fuzzed, query, value):
    """Values aimed at the arguments that reach PostgreSQL and the REST upstreams."""
    token = fuzzed.token(
        "fuzz-admin", "admin:api-keys", "users:read", "orders:read", "content:read"
    )

    response = await fuzzed.http.post(
        "/graphql",
        content=_dumps({"query": query, "variables": {"v": value}}),
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )

    _assert_safe(response)
    for error in response.json().get("errors") or ():
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
