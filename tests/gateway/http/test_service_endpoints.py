"""Specifications of what operators and developers see beside the GraphQL answers: health,
readiness, metrics, request ids, masked errors, GraphiQL, the SDL and the dev issuer's JWKS."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings
from schema.masking import MASKED_MESSAGE, classify
from tests.factories import make_user
from tests.services import closed_loopback_port
from tests.transactional import TransactionalDatabase


@asynccontextmanager
async def running(application: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A second app with its lifespan run, and an HTTP client for it."""
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
        ) as client,
    ):
        yield client


# --- liveness and readiness ---------------------------------------------------------------


async def test_healthz_answers_ok(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_database_redis_and_jwks_are_ok(client):
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok", "jwks": "ok"},
        "degraded": [],
        "upstreams": {"content": "closed", "recommendations": "closed"},
    }


async def readyz_with_unreachable_redis(settings, connection) -> tuple[httpx.Response, int]:
    port = closed_loopback_port()
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    application = create_app(broken, database=TransactionalDatabase(connection))
    async with running(application) as client:
        return await client.get("/readyz"), port


async def test_readyz_stays_ready_but_degraded_naming_redis_when_redis_is_unreachable(
    settings, connection
):
    """Every replica shares one Redis and serves without it: failing readiness on it would
    take every replica out of the load balancer at once."""
    response, _ = await readyz_with_unreachable_redis(settings, connection)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["redis"]
    assert body["checks"]["redis"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["jwks"] == "ok"


async def test_readyz_never_names_a_host_or_port(settings, connection):
    response, port = await readyz_with_unreachable_redis(settings, connection)

    for leak in ("127.0.0.1", "localhost", str(port), "redis://", "Error", "refused"):
        assert leak not in response.text


# --- metrics ------------------------------------------------------------------------------


async def test_metrics_count_sql_statements_by_verb_after_a_query(gateway, client, connection):
    user = await make_user(connection)
    await gateway.execute("{ me { id } }", token=gateway.token(user.subject))

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'manifold_datasource_requests_total{operation="SELECT",source="database"}' in (
        response.text
    )


async def test_metrics_expose_the_dataloader_batch_size_histogram(gateway, client, connection):
    user = await make_user(connection)
    await gateway.execute("{ me { id } }", token=gateway.token(user.subject))

    response = await client.get("/metrics")

    assert "# TYPE manifold_dataloader_batch_size histogram" in response.text
    assert 'manifold_dataloader_batch_size_count{loader="user_by_subject"} 1.0' in response.text


# --- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/graphql?query={me{id}}"])
async def test_every_response_carries_a_request_id(client, path):
    response = await client.get(path)

    assert response.headers["X-Request-ID"]


async def test_a_sane_supplied_request_id_is_echoed(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b:c"})

    assert response.headers["X-Request-ID"] == "trace-42.a_b:c"


@pytest.mark.parametrize(
    "malicious", ["a b\n", "a b", "x" * 129, "<script>", "id;rm -rf", "ünïcode"]
)
async def test_a_malicious_supplied_request_id_is_replaced(client, malicious):
    response = await client.get(
        "/healthz", headers=[(b"X-Request-ID", malicious.encode("latin-1", "replace"))]
    )

    echoed = response.headers["X-Request-ID"]
    assert echoed != malicious
    assert echoed.isalnum()
    assert len(echoed) == 32


# --- masked internal errors ---------------------------------------------------------------


def test_classify_masks_an_unexpected_error_and_tags_it_with_the_request_id():
    error = GraphQLError(
        "secret SQL: SELECT * FROM users",
        path=["me"],
        original_error=RuntimeError("secret SQL: SELECT * FROM users"),
    )

    masked = classify(error, "req-123").formatted

    assert masked["message"] == MASKED_MESSAGE == "Unexpected error."
    assert masked["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-123"}
    assert masked["path"] == ["me"]
    assert "secret" not in json.dumps(masked)


# --- GraphiQL and GET queries -------------------------------------------------------------


async def test_graphiql_is_served_to_a_browser_in_dev(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_query_can_be_sent_with_get(client):
    # A GET names a preflight header, or CSRF prevention refuses it (tests/protection).
    response = await client.get(
        "/graphql",
        params={"query": "{ me { id } }"},
        headers={"Accept": "application/json", "apollo-require-preflight": "true"},
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_graphiql_is_not_served_when_turned_off(settings, connection):
    quiet = settings.model_copy(update={"graphiql": False})
    application = create_app(quiet, database=TransactionalDatabase(connection))

    async with running(application) as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert not response.headers.get("content-type", "").startswith("text/html")
    assert "graphiql" not in response.text.lower()


async def test_introspection_is_refused_when_turned_off(settings, connection):
    quiet = settings.model_copy(update={"introspection": False})
    application = create_app(quiet, database=TransactionalDatabase(connection))

    async with running(application) as client:
        response = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})

    body = response.json()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTROSPECTION_DISABLED"]


# --- the SDL ------------------------------------------------------------------------------


async def test_sdl_marks_email_with_its_required_scope(app):
    sdl = app.state.resources.schema.as_str()

    email_line = next(line for line in sdl.splitlines() if line.strip().startswith("email"))
    assert '@requiresScopes(scopes: [["users:email"]])' in email_line


async def test_sdl_field_descriptions_name_the_required_scopes(app):
    sdl = app.state.resources.schema.as_str()

    assert '"""Email address. Requires scope: users:email."""' in sdl
    assert "Requires scope: users:read." in sdl


# --- the development issuer's JWKS --------------------------------------------------------


async def test_jwks_endpoint_is_404_when_a_real_issuer_is_configured(client):
    response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 404


async def test_dev_issuer_jwks_serves_public_keys_only(settings: Settings, connection, tmp_path):
    dev = settings.model_copy(
        update={"oauth_issuer": None, "oauth_jwks_url": None, "data_dir": tmp_path / "dev"}
    )
    application = create_app(dev, database=TransactionalDatabase(connection))

    async with running(application) as client:
        response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    (key,) = keys
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["kid"]
    private_members = {"d", "p", "q", "dp", "dq", "qi"}
    assert private_members.isdisjoint(key)
    assert (tmp_path / "dev" / "dev-issuer-key.json").exists()


async def test_dev_issuer_tokens_verify_against_its_published_jwks(
    settings: Settings, connection, tmp_path
):
    dev = settings.model_copy(
        update={"oauth_issuer": None, "oauth_jwks_url": None, "data_dir": tmp_path / "dev"}
    )
    application = create_app(dev, database=TransactionalDatabase(connection))

    async with running(application) as client:
        issuer = application.state.resources.dev_issuer
        token = issuer.mint(subject="dev-user", scopes=["users:read"], audience=dev.oauth_audience)
        published = (await client.get("/.well-known/jwks.json")).json()
        answer = await client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    claims = jwt.decode(token, KeySet.import_key_set(published), algorithms=["RS256"]).claims
    assert claims["sub"] == "dev-user"
    assert claims["iss"] == "urn:manifold:dev-issuer"
    assert answer.status_code == 200
    assert answer.json()["data"] == {"me": None}


async def test_field_suggestions_are_left_out_when_switched_off(settings, connection):
    quiet = settings.model_copy(update={"field_suggestions": False})

    async with running(create_app(quiet, database=TransactionalDatabase(connection))) as client:
        response = await client.post("/graphql", json={"query": "{ mee { id } }"})

    message = response.json()["errors"][0]["message"]
    assert "mee" in message
    assert "Did you mean" not in message


async def test_field_suggestions_help_developers_in_dev(client):
    response = await client.post("/graphql", json={"query": "{ mee { id } }"})

    assert "Did you mean" in response.json()["errors"][0]["message"]


async def test_websocket_connections_are_refused_when_subscriptions_are_off(make_gateway):
    """GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS=0: no WebSocket route at all (an unused transport
    is attack surface); the transport itself is tested in tests/gateway/subscriptions."""
    app = (await make_gateway(subscription_max_connections=0)).app
    sent: list[dict[str, Any]] = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"sec-websocket-protocol", b"graphql-transport-ws")],
        "subprotocols": ["graphql-transport-ws"],
        "scheme": "ws",
        "server": ("gateway.test", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "asgi": {"version": "3.0"},
        "state": {},
    }
    await app(scope, receive, send)

    assert [message["type"] for message in sent] == ["websocket.close"]
