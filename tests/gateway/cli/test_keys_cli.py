"""``gateway keys create|list|revoke`` on the embedded default (SQLite, in-process cache), and
the log redaction that keeps keys out of the access log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from typer.testing import CliRunner

from auth.key_material import parse_key
from datasources.migrate import upgrade_database
from gateway.app import create_app
from gateway.cli import app as cli
from gateway.observability.redaction import RedactApiKeys
from gateway.settings import Settings, get_settings


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings = Settings(data_dir=tmp_path)
    asyncio.run(upgrade_database(settings.resolved_database_url))
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def me_status(settings: Settings, key: str) -> int:
    async def call() -> int:
        application = create_app(settings)
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
            ) as client,
        ):
            response = await client.post(
                "/graphql", json={"query": "{ me { name } }"}, headers={"X-API-Key": key}
            )
            return response.status_code

    return asyncio.run(call())


def test_cli_creates_lists_and_revokes_a_key(embedded: Settings):
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "keys",
            "create",
            "--name",
            "Acme feed",
            "--scope",
            "users:read",
            "--scope",
            "content:read",
            "--expires-in",
            "90d",
            "--owner",
            "Acme",
        ],
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    key_id, secret = parse_key(key)
    assert me_status(embedded, key) == 200

    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert key_id in listed.output
    assert "Acme feed" in listed.output
    assert "content:read,users:read" in listed.output
    assert secret not in listed.output

    revoked = runner.invoke(cli, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert me_status(embedded, key) == 401


def test_cli_refuses_an_unknown_scope_and_an_unknown_key(embedded: Settings):
    runner = CliRunner()
    bad_scope = runner.invoke(cli, ["keys", "create", "--name", "x", "--scope", "everything"])
    unknown = runner.invoke(cli, ["keys", "revoke", "nosuchkey000"])

    assert bad_scope.exit_code == 1
    assert "unknown scope" in bad_scope.output
    assert unknown.exit_code == 1
    assert "no API key" in unknown.output


def test_access_log_lines_never_carry_a_key_secret():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "203.0.113.7:4711",
            "GET",
            "/graphql?query=x&api_key=mfk_abcdefabcdef_" + "S" * 40,
            "1.1",
            401,
        ),
        None,
    )

    assert RedactApiKeys().filter(record)
    assert "S" * 40 not in record.getMessage()
    assert "mfk_abcdefabcdef_[REDACTED]" in record.getMessage()
    assert isinstance(record.args, tuple)  # uvicorn reads them by position
    assert len(record.args) == 5


def test_cli_refuses_a_lifetime_beyond_ten_years_in_one_line(embedded: Settings):
    result = CliRunner().invoke(
        cli,
        ["keys", "create", "--name", "x", "--scope", "users:read", "--expires-in", "99999999999d"],
    )

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip() == "a key may live at most 3650 days (10 years)"


def access_log_record(path: str) -> logging.LogRecord:
    """The record uvicorn's access logger writes for a request."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:4711", "GET", path, "1.1", 401),
        None,
    )


SECRET = "S" * 40


@pytest.mark.parametrize(
    "value",
    [
        "mfk%5Fabcdefabcdef%5F" + SECRET,
        "mfk%5fabcdefabcdef%5f" + SECRET,
        "%6Dfk_abcdefabcdef_" + SECRET,
        "%6D%66%6B%5F%61bcdefabcdef_%53" + SECRET[1:],
        "mfk%255Fabcdefabcdef%255F" + SECRET,  # encoded twice
    ],
)
def test_access_log_lines_never_carry_a_percent_encoded_key_secret(value: str):
    record = access_log_record(f"/graphql?query=%7B__typename%7D&api_key={value}")

    assert RedactApiKeys().filter(record)
    message = record.getMessage()
    assert SECRET[1:] not in message
    assert "api_key=mfk_abcdefabcdef_[REDACTED]" in message
    assert "query=%7B__typename%7D" in message  # the rest of the line is left as it was


def test_a_value_encoded_deeper_than_clients_do_is_hidden_whole():
    value = "mfk%5Fabcdefabcdef%5F" + SECRET
    for _ in range(5):  # six levels of encoding in all
        value = quote(value, safe="")
    record = access_log_record(f"/graphql?api_key={value}")

    assert RedactApiKeys().filter(record)
    assert record.getMessage().endswith('"GET /graphql?api_key=[REDACTED] HTTP/1.1" 401')


async def test_without_redis_a_running_gateway_refuses_a_key_revoked_from_the_cli(
    embedded: Settings,
):
    runner = CliRunner()
    created = await asyncio.to_thread(
        runner.invoke, cli, ["keys", "create", "--name", "x", "--scope", "users:read"]
    )
    key = created.stdout.strip()
    application = create_app(embedded)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://gateway.test"
        ) as client,
    ):
        query = {"query": "{ me { name } }"}
        before = await client.post("/graphql", json=query, headers={"X-API-Key": key})
        await asyncio.to_thread(runner.invoke, cli, ["keys", "revoke", parse_key(key)[0]])
        after = await client.post("/graphql", json=query, headers={"X-API-Key": key})

    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["errors"][0]["message"] == "API key revoked"


def test_cli_may_grant_any_known_scope(embedded: Settings):
    created = CliRunner().invoke(
        cli,
        [
            "keys",
            "create",
            "--name",
            "operator",
            "--scope",
            "admin:api-keys orders:read:all operations:any",
        ],
    )

    assert created.exit_code == 0, created.output
    assert "scopes admin:api-keys operations:any orders:read:all" in created.output


def test_cli_key_list_aligns_every_column_under_its_header(embedded: Settings):
    runner = CliRunner()
    for name, owner, scopes in [
        ("A much longer partner feed name", "Acme Corporation", ["users:read", "content:read"]),
        ("x", None, ["users:read"]),
    ]:
        arguments = ["keys", "create", "--name", name]
        for scope in scopes:
            arguments += ["--scope", scope]
        if owner:
            arguments += ["--owner", owner]
        assert runner.invoke(cli, arguments).exit_code == 0

    listed = runner.invoke(cli, ["keys", "list"])

    assert listed.exit_code == 0, listed.output
    header, *rows = listed.stdout.splitlines()
    starts = [header.index(title) for title in ("NAME", "OWNER", "SCOPES", "CREATED", "EXPIRES")]
    assert len(rows) == 2
    for row in rows:
        for start in starts:
            assert row[start - 2 : start] == "  "  # a column boundary, in every row
            assert row[start] != " "  # and its cell begins right under the title
    assert rows[0][starts[0] :].startswith("A much longer partner feed name")
    assert rows[1][starts[1] :].startswith("-")  # no owner
