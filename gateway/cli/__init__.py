"""The ``gateway`` command: run, migrate, seed, mint development tokens, export the schema."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, or_, select
from sqlalchemy.exc import DBAPIError

from auth.dev_issuer import DevIssuer
from auth.durations import parse_duration
from contract.scopes import READ_SCOPES, Scope
from datasources.db import Database
from datasources.migrate import upgrade_database
from datasources.tables import users
from demo import content, payments, recommendations
from demo.seed import SeedReport, seed_database
from demo.serve import serving
from gateway.cli.common import (
    EXIT_USAGE,
    check_demo_port,
    check_port,
    command_database,
    fail,
    package_version,
    require_free_port,
    settings_or_exit,
)
from gateway.cli.keys import keys_app
from gateway.cli.schema_check import InvalidSchema, compare
from gateway.http.graphiql import DEMO_QUERY
from gateway.observability.log import configure_logging
from gateway.runtime.server import serve as serve_gateway
from gateway.settings import Settings, get_settings
from schema import build_schema

app = typer.Typer(
    help="Manifold GraphQL gateway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets and tokens
)
db_app = typer.Typer(help="Database migrations and seed data.", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(schema_app, name="schema")
app.add_typer(keys_app, name="keys")

DEMO_USERS = 200
DEMO_ORDERS_PER_USER = 5
#: Besides every read scope, the demo token may place and cancel orders and rename user 1.
DEMO_WRITE_SCOPES = (Scope.ORDERS_WRITE, Scope.USERS_WRITE)


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"manifold-gateway {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Manifold GraphQL gateway."""


def _serve(host: str, port: int, workers: int) -> None:
    settings = settings_or_exit()
    if settings.metrics_port is not None and workers > 1:
        raise fail(
            "GATEWAY_METRICS_PORT serves one process's metrics: run --workers 1 per container "
            "(scale with replicas), or leave it unset to serve /metrics from each worker",
            code=EXIT_USAGE,
        )
    serve_gateway(settings, host=host, port=port, workers=workers)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 to 65535).", callback=check_port)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the gateway as configured by GATEWAY_* variables."""
    settings_or_exit()  # refused settings: one line here, rather than a traceback per worker
    require_free_port(host, port)
    _serve(host, port, workers)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    asyncio.run(upgrade_database(settings_or_exit().resolved_database_url, revision))
    typer.echo(f"database upgraded to {revision}")


@db_app.command("seed")
def db_seed(
    users_count: Annotated[int, typer.Option("--users", min=1)] = DEMO_USERS,
    orders_per_user: Annotated[int, typer.Option("--orders-per-user", min=0)] = 10,
) -> None:
    """Fill the database with deterministic demo users and orders."""
    report = asyncio.run(_seed(settings_or_exit(), users_count, orders_per_user))
    typer.echo(seed_summary(report))


def seed_summary(report: SeedReport) -> str:
    if report.skipped:
        return "already seeded"
    return (
        f"seeded {report.users} users, {report.orders} orders, {report.order_lines} lines "
        f"in {report.elapsed_seconds:.2f} s"
    )


async def _seed(settings: Settings, users_count: int, orders_per_user: int) -> SeedReport:
    async with command_database(settings) as database:
        return await seed_database(
            database.engine, users=users_count, orders_per_user=orders_per_user
        )


async def _find_subject(database: Database, user: str) -> str | None:
    condition = users.c.email == user
    if user.isdigit():
        condition = or_(condition, users.c.id == int(user))
    async with database.connect() as connection:
        subject: str | None = (
            await connection.execute(select(users.c.subject).where(condition))
        ).scalar_one_or_none()
    return subject


async def _subject_for(settings: Settings, user: str) -> str | None:
    async with command_database(settings) as database:
        return await _find_subject(database, user)


def _mint(settings: Settings, subject: str, scopes: list[str], ttl_seconds: int) -> str:
    if not settings.uses_dev_issuer:
        raise fail(
            "tokens can only be minted by the development issuer (dev, no GATEWAY_OAUTH_ISSUER)"
        )
    issuer = DevIssuer.load_or_create(settings.data_dir)
    return issuer.mint(
        subject=subject, scopes=scopes, audience=settings.oauth_audience, ttl_seconds=ttl_seconds
    )


@app.command()
def token(
    user: Annotated[str, typer.Option("--user", help="User id or email.")],
    scope: Annotated[str, typer.Option("--scope", help="Space-separated scopes.")] = " ".join(
        READ_SCOPES
    ),
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime, e.g. 15m, 1h, 7d.")] = "1h",
) -> None:
    """Print an access token for a user, signed by the local development issuer."""
    settings = settings_or_exit()
    scopes = scope.split()
    unknown = sorted(set(scopes) - {str(known) for known in Scope})
    if unknown:
        raise fail(f"unknown scope(s): {', '.join(unknown)}")
    try:
        ttl_seconds = parse_duration(ttl)
    except ValueError as error:
        raise fail(str(error)) from None
    subject = asyncio.run(_subject_for(settings, user))
    if subject is None:
        raise fail(f"no user with id or email {user!r}")
    typer.echo(_mint(settings, subject, scopes, ttl_seconds))


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port (1 to 65535).", callback=check_demo_port)
    ] = 8000,
) -> None:
    """Migrate, seed on first start, print a ready token, and serve with GraphiQL."""
    settings = settings_or_exit()
    if settings.is_prod:
        raise fail("the demo runs only with GATEWAY_ENV=dev")
    require_free_port(host, port)
    subject = asyncio.run(_prepare_demo(settings))
    if subject is None:
        raise fail("the demo database has no user 1")
    access_token = _mint(settings, subject, [*READ_SCOPES, *DEMO_WRITE_SCOPES], 12 * 3600)
    # The worker reads its settings from the environment: GraphiQL opens signed in as user 1.
    os.environ["GATEWAY_GRAPHIQL_TOKEN"] = access_token
    get_settings.cache_clear()
    with ExitStack() as upstreams:
        content_url, recommendations_url, payments_url = _demo_upstreams(
            settings, upstreams, host=host, port=port
        )
        typer.echo(
            "\nManifold demo\n"
            f"  GraphiQL:         http://{host}:{port}/graphql  (signed in as user 1, the token "
            "below; press ▶ to run the query it opens with)\n"
            f"  Content:          {content_url}/openapi.json\n"
            f"  Recommendations:  {recommendations_url}/openapi.json\n"
            f"  Payments:         {payments_url}/openapi.json\n"
            "  For curl and other clients (valid 12h, user 1, every read scope and "
            "orders:write users:write):\n\n"
            f'  {{"Authorization": "Bearer {access_token}"}}\n\n'
            f"  The first query:  {DEMO_QUERY}\n"
            '  Or order:  mutation { placeOrder(input: {lines: [{contentId: "Q29udGVudDoz", '
            'quantity: 2}], idempotencyKey: "my-first-order"}) { order { number status '
            "total { amount } } payment { status } } }\n"
        )
        _serve(host, port, 1)


def _demo_upstreams(
    settings: Settings, stack: ExitStack, *, host: str, port: int
) -> tuple[str, str, str]:
    """The sample REST services on loopback, unless GATEWAY_*_URL already names real ones.

    The gateway's worker reads its settings from the environment, so the URLs go there; the
    sample provider calls this gateway's webhook back, signed with the gateway's secret (one
    made up for the demo unless GATEWAY_PAYMENTS_WEBHOOK_SECRET is set).
    """
    content_url = settings.content_url or stack.enter_context(
        serving(content.create_app(content.ContentConfig(users=DEMO_USERS)))
    )
    recommendations_url = settings.recommendations_url or stack.enter_context(
        serving(
            recommendations.create_app(
                recommendations.RecommendationsConfig(
                    users=DEMO_USERS, orders_per_user=DEMO_ORDERS_PER_USER
                )
            )
        )
    )
    secret = settings.payments_webhook_secret
    webhook_secret = secret.get_secret_value() if secret else secrets.token_urlsafe(24)
    callback_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    payments_url = settings.payments_url or stack.enter_context(
        serving(
            payments.create_app(
                payments.PaymentsConfig(
                    webhook_url=f"http://{callback_host}:{port}/webhooks/payments",
                    webhook_secrets=(webhook_secret,),
                )
            )
        )
    )
    os.environ["GATEWAY_CONTENT_URL"] = content_url
    os.environ["GATEWAY_RECOMMENDATIONS_URL"] = recommendations_url
    os.environ["GATEWAY_PAYMENTS_URL"] = payments_url
    os.environ["GATEWAY_PAYMENTS_WEBHOOK_SECRET"] = webhook_secret
    get_settings.cache_clear()
    return content_url, recommendations_url, payments_url


async def _prepare_demo(settings: Settings) -> str | None:
    """Migrate, seed an empty database, and return user 1's subject, on one engine."""
    await upgrade_database(settings.resolved_database_url)
    async with command_database(settings) as database:
        async with database.connect() as connection:
            count = (await connection.execute(select(func.count()).select_from(users))).scalar_one()
        if count == 0:
            typer.echo(f"seeding {DEMO_USERS} users x {DEMO_ORDERS_PER_USER} orders …")
            await seed_database(
                database.engine, users=DEMO_USERS, orders_per_user=DEMO_ORDERS_PER_USER
            )
        return await _find_subject(database, "1")


@schema_app.command("export")
def schema_export(
    federation: Annotated[
        bool,
        typer.Option(
            "--federation", help="Print the Apollo Federation subgraph SDL a router composes."
        ),
    ] = False,
) -> None:
    """Print the full SDL, with @requiresScopes on every gated field."""
    schema = build_schema(federation=federation)
    sdl = schema.subgraph_sdl if schema.subgraph_sdl is not None else schema.as_str()
    sys.stdout.write(sdl + "\n")


@schema_app.command("check")
def schema_check(
    old: Annotated[Path, typer.Argument(help="The published SDL to compare with.")],
) -> None:
    """Report breaking and dangerous changes since OLD; exit 1 if any change is breaking,
    2 if OLD cannot be read or is not a valid schema."""
    try:
        old_sdl = old.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise fail(f"cannot read {old}: {reason}", code=EXIT_USAGE) from None
    try:
        changes = compare(old_sdl, build_schema().as_str())
    except InvalidSchema as error:
        which = old.name if error.which == "old" else "this build's schema"
        raise fail(f"{which} is not a valid schema: {error.message}", code=EXIT_USAGE) from None
    typer.echo(changes.report())
    if changes.is_breaking:
        raise typer.Exit(code=1)


def main() -> None:
    configure_logging()
    try:
        app()
    except DBAPIError as error:
        # One line, never the SQL or the database URL: usually a database not migrated yet.
        reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
        typer.secho(
            f"database error ({reason}): if the database is new, run `gateway db upgrade`",
            fg=typer.colors.RED,
            err=True,
        )
        raise SystemExit(2) from None
