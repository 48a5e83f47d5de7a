"""The embedded default: nothing configured, SQLite, in-process cache, development issuer.

These tests need no server, so they also run on a bare machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.tokens import TokenValidator
from datasources.db import create_engine
from datasources.migrate import upgrade_database
from datasources.seed import FIRST_USER_SUBJECT, seed_database
from gateway.app import create_app
from gateway.cli import app as cli
from gateway.settings import Settings, get_settings


@pytest.fixture
async def embedded(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path)
    await upgrade_database(settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    try:
        await seed_database(engine, users=5, orders_per_user=3)
    finally:
        await engine.dispose()
    return settings


async def test_a_dev_token_reads_the_seeded_users_orders_from_sqlite(embedded: Settings):
    app = create_app(embedded)
    async with app.router.lifespan_context(app):
        token = app.state.resources.dev_issuer.mint(
            subject=FIRST_USER_SUBJECT, scopes=["users:read", "orders:read"], audience="manifold"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": "{ me { name orders { edges { node { number lines { quantity } } } } } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            ready = await client.get("/readyz")

    body = response.json()
    assert "errors" not in body
    assert body["data"]["me"]["name"]
    assert len(body["data"]["me"]["orders"]["edges"]) == 3
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "memory": "ok", "jwks": "ok"}


async def test_the_embedded_default_batches_like_postgresql(embedded: Settings):
    app = create_app(embedded)
    async with app.router.lifespan_context(app):
        token = app.state.resources.dev_issuer.mint(
            subject=FIRST_USER_SUBJECT,
            scopes=["users:read", "orders:read:all"],
            audience="manifold",
        )
        metrics = app.state.resources.metrics.datasources
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            before = metrics.database_statements()
            response = await client.post(
                "/graphql",
                json={
                    "query": "{ users { edges { node { orders { edges { node { lines { quantity } } } } } } } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            statements = metrics.database_statements() - before

    assert len(response.json()["data"]["users"]["edges"]) == 5
    assert statements == 3


def test_cli_token_mints_a_token_the_gateway_accepts(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(embedded.data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli, ["token", "--user", "1", "--scope", "users:read", "--ttl", "10m"]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    validator = TokenValidator(
        key_source=DevIssuer.load_or_create(embedded.data_dir).key_source(),
        issuer=DEV_ISSUER,
        audience="manifold",
        algorithms=["RS256"],
    )
    principal = asyncio.run(validator.validate(result.output.strip()))
    assert principal.subject == FIRST_USER_SUBJECT
    assert principal.scopes == {"users:read"}


def test_cli_token_refuses_an_unknown_scope(embedded: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(embedded.data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["token", "--user", "1", "--scope", "everything"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1
    assert "unknown scope" in result.output


def test_schema_export_prints_the_sdl_with_scope_requirements():
    result = CliRunner().invoke(cli, ["schema", "export"])

    assert result.exit_code == 0
    assert '@requiresScopes(scopes: [["users:email"]])' in result.output
    assert "type Query" in result.output
