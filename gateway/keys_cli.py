"""``gateway keys create|list|revoke``: partner API keys from the command line.

Uses the same ``ApiKeys`` service as the admin mutations, with the gateway's database, shared
cache (so a revocation reaches running gateways at once) and pepper.

Also home of ``settings_or_exit``, which every ``gateway`` command that reads settings uses:
a refused configuration is one line naming what is wrong (never a value, since values may be
secrets) and exit status 2, not a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from auth.api_keys import ApiKeys, CreatedApiKey
from auth.key_material import load_pepper
from datasources.api_keys import ApiKeyRecord
from datasources.cache import create_cache
from datasources.db import Database, create_engine
from gateway.errors import GatewayError
from gateway.settings import Settings, get_settings
from resolvers.api_keys import expiry_from

keys_app = typer.Typer(help="Partner API keys.", no_args_is_help=True)


@asynccontextmanager
async def _service(settings: Settings) -> AsyncIterator[ApiKeys]:
    database = Database(create_engine(settings.resolved_database_url))
    cache = create_cache(settings.redis_url, prefix=settings.redis_prefix)
    try:
        pepper = settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None
        yield ApiKeys(
            database=database,
            cache=cache if settings.redis_url else None,
            pepper=load_pepper(pepper, settings.data_dir),
            cache_seconds=settings.api_key_cache_seconds,
        )
    finally:
        await cache.close()
        await database.dispose()


#: Exit status for a configuration or usage problem (1 is for a refused operation).
EXIT_USAGE = 2
_VALUE_ERROR_PREFIX = "Value error, "


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def settings_problem(error: ValidationError | SettingsError) -> str:
    """What is wrong with the configuration, on one line, without any value it holds."""
    if isinstance(error, SettingsError):
        return f"invalid settings: {error}"
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = item["msg"].removeprefix(_VALUE_ERROR_PREFIX)
        where = "_".join(str(part) for part in item["loc"]).upper()
        problems.append(f"GATEWAY_{where}: {message}" if where else message)
    return "; ".join(problems)


def settings_or_exit() -> Settings:
    """The process's settings, or exit 2 with the one-line reason they are refused."""
    try:
        return get_settings()
    except (ValidationError, SettingsError) as error:
        raise _fail(settings_problem(error), code=EXIT_USAGE) from None


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    scope: Annotated[list[str], typer.Option("--scope", help="A scope; repeat for several.")],
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="Lifetime, e.g. 90d; default: none.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="The partner.")] = None,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, help="Cost points per window.")
    ] = None,
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    settings = settings_or_exit()

    async def run() -> CreatedApiKey:
        async with _service(settings) as service:
            return await service.create(
                name=name,
                scopes=[part for item in scope for part in item.split()],
                owner=owner,
                budget=budget,
                expires_at=expiry_from(expires_in, None),
            )

    try:
        created = asyncio.run(run())
    except GatewayError as error:
        raise _fail(error.message) from None
    record = created.record
    typer.echo(created.key)
    typer.echo(
        f"key id {record.key_id}, scopes {' '.join(record.scopes)}, "
        f"expires {_when(record.expires_at)}. Store the key now: it is not shown again.",
        err=True,
    )


LIST_HEADER = ["KEY ID", "NAME", "OWNER", "SCOPES", "CREATED", "EXPIRES", "REVOKED", "LAST USED"]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart, without trailing blanks."""
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


@keys_app.command("list")
def list_keys() -> None:
    """List keys (never their secrets)."""
    settings = settings_or_exit()

    async def run() -> list[ApiKeyRecord]:
        records: list[ApiKeyRecord] = []
        after: str | None = None
        async with _service(settings) as service:
            while True:
                page = await service.page(first=100, after=after)
                records.extend(page.items)
                if not page.has_next_page:
                    return records
                after = page.cursors[-1]

    rows = [
        [
            record.key_id,
            record.name,
            record.owner or "-",
            ",".join(record.scopes),
            _when(record.created_at),
            _when(record.expires_at),
            _when(record.revoked_at),
            _when(record.last_used_at),
        ]
        for record in asyncio.run(run())
    ]
    for line in table(LIST_HEADER, rows):
        typer.echo(line)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (after mfk_).")]) -> None:
    """Revoke a key; gateways sharing the Redis refuse it at once."""
    settings = settings_or_exit()

    async def run() -> ApiKeyRecord | None:
        async with _service(settings) as service:
            return await service.revoke(key_id)

    record = asyncio.run(run())
    if record is None:
        raise _fail(f"no API key with id {key_id!r}")
    typer.echo(f"revoked {record.key_id} at {_when(record.revoked_at)}")
