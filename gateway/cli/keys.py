"""``gateway keys create|list|revoke``: partner API keys from the command line.

Uses the same ``ApiKeys`` service as the admin mutations, built by the same wiring, with the
gateway's database, shared cache (so a revocation reaches running gateways at once) and pepper.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import typer

from auth.api_keys import ApiKeys, CreatedApiKey
from contract.errors import GatewayError
from datasources.api_keys import ApiKeyRecord
from datasources.cache import create_cache
from gateway.cli.common import command_database, fail, settings_or_exit
from gateway.runtime.wiring import build_api_keys
from gateway.settings import Settings
from resolvers.api_keys import expiry_from

keys_app = typer.Typer(help="Partner API keys.", no_args_is_help=True)


@asynccontextmanager
async def _service(settings: Settings) -> AsyncIterator[ApiKeys]:
    cache = create_cache(settings.redis_url, prefix=settings.redis_prefix)
    try:
        async with command_database(settings) as database:
            yield build_api_keys(settings, database, cache)
    finally:
        await cache.close()


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
        raise fail(error.message) from None
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
        raise fail(f"no API key with id {key_id!r}")
    typer.echo(f"revoked {record.key_id} at {_when(record.revoked_at)}")
