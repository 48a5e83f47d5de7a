"""The embedded default: nothing configured, SQLite, in-process cache, development issuer.

These tests need no server, so they also run on a bare machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from auth.dev_issuer import DEV_ISSUER, DevIssuer
from auth.tokens import TokenValidator
from datasources.db import create_engine
from datasources.migrate import upgrade_database
from datasources.tables import orders, users
from demo.seed import FIRST_USER_SUBJECT, seed_database
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
    assert ready.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "memory": "ok",
        "jwks": "ok",
    }


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


async def test_sqlite_pages_through_equal_timestamps_stored_from_another_offset(embedded: Settings):
    offset = timezone(timedelta(hours=1))
    engine = create_engine(embedded.resolved_database_url)
    try:
        async with engine.begin() as connection:
            user_id = (
                await connection.execute(
                    users.insert()
                    .values(subject="tied", name="Tied", email="tied@example.com")
                    .returning(users.c.id)
                )
            ).scalar_one()
            await connection.execute(
                orders.insert(),
                [
                    {
                        "number": f"TIE-{n}",
                        "user_id": user_id,
                        "status": "PAID",
                        "currency": "EUR",
                        "total": Decimal("1.00"),
                        "placed_at": datetime(2026, 3, 1, 13, 30, tzinfo=offset),
                    }
                    for n in range(3)
                ],
            )
    finally:
        await engine.dispose()
    app = create_app(embedded)
    query = "query($after: String) { me { orders(first: 1, after: $after) { edges { node { number placedAt } } pageInfo { hasNextPage endCursor } } } }"
    seen: list[tuple[str, str]] = []
    async with app.router.lifespan_context(app):
        token = app.state.resources.dev_issuer.mint(
            subject="tied", scopes=["orders:read"], audience="manifold"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            after = None
            for _ in range(5):
                response = await client.post(
                    "/graphql",
                    json={"query": query, "variables": {"after": after}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                page = response.json()["data"]["me"]["orders"]
                seen += [
                    (edge["node"]["number"], edge["node"]["placedAt"]) for edge in page["edges"]
                ]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]

    assert sorted(number for number, _ in seen) == ["TIE-0", "TIE-1", "TIE-2"]
    assert {placed_at for _, placed_at in seen} == {"2026-03-01T12:30:00+00:00"}


async def test_an_unexpected_failure_is_masked_and_logged_under_its_request_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    unmigrated = Settings(data_dir=tmp_path)
    app = create_app(unmigrated)
    async with app.router.lifespan_context(app):
        token = app.state.resources.dev_issuer.mint(
            subject="secret-subject-42", scopes=[], audience="manifold"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            with caplog.at_level("ERROR", logger="manifold.errors"):
                response = await client.post(
                    "/graphql",
                    json={"query": "{ me { id } }"},
                    headers={"Authorization": f"Bearer {token}"},
                )

    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "users" not in response.text
    (record,) = caplog.records
    assert (
        getattr(record, "request_id", None)
        == error["extensions"]["requestId"]
        == response.headers["x-request-id"]
    )
    assert record.exc_info is not None
    assert "secret-subject-42" not in caplog.text


def run_db_seed(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *arguments: str) -> str:
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["db", "seed", *arguments])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_cli_db_seed_prints_what_it_added_in_one_human_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    asyncio.run(upgrade_database(Settings(data_dir=tmp_path).resolved_database_url))

    output = run_db_seed(tmp_path, monkeypatch, "--users", "3", "--orders-per-user", "2")

    assert output.startswith("seeded 3 users, 6 orders, ")
    assert " lines in " in output
    assert output.endswith(" s")
    assert "SeedReport" not in output


def test_cli_db_seed_says_when_the_database_is_already_seeded(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
):
    output = run_db_seed(embedded.data_dir, monkeypatch, "--users", "5")

    assert output == "already seeded"


def test_cli_on_a_database_not_yet_migrated_says_so_in_one_line(tmp_path: Path):
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")
    }
    result = subprocess.run(
        [sys.executable, "-c", "from gateway.cli import main; main()", "keys", "list"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "database error (OperationalError): if the database is new, run `gateway db upgrade`"
    ]
    assert "Traceback" not in result.stdout + result.stderr


async def test_a_database_not_migrated_to_this_builds_revision_is_not_ready(tmp_path: Path):
    unmigrated = Settings(data_dir=tmp_path)
    app = create_app(unmigrated)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "behind"
    assert response.json()["checks"]["database"] == "ok"
