"""One benchmark run, start to finish: database, seed, server, scenarios, clean-up.

Everything the run creates (database, data directory, server process) is owned by a context
manager here, so an error or Ctrl-C at any point unwinds them in reverse order.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from auth.dev_issuer import DevIssuer
from bench.database import scratch_database
from bench.load import LoadPhase, open_clients, run_load
from bench.report import RunReport, ScenarioReport, summarize
from bench.scenarios import build_scenarios, database_statements
from bench.server import RunningServer, cpu_seconds, gateway_server
from datasources.db import create_engine
from datasources.migrate import upgrade_database
from datasources.seed import SeedReport, seed_database

AUDIENCE = "manifold-bench"


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str | None
    users: int
    orders_per_user: int
    duration_seconds: float
    warmup_seconds: float
    concurrency: int
    max_requests: int


def _progress(message: str) -> None:
    # Progress goes to stderr so stdout carries only the report.
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def _seed(url: str, options: Options) -> SeedReport:
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        return await seed_database(
            engine, users=options.users, orders_per_user=options.orders_per_user
        )
    finally:
        await engine.dispose()


def _setup(options: Options, database: str, seeded: SeedReport) -> dict[str, Any]:
    server = make_url(options.database_url).render_as_string(hide_password=True)
    cores = os.cpu_count() or 1
    return {
        "database": f"{server} -> scratch database {make_url(database).database}",
        "redis": options.redis_url or "none (in-process cache)",
        "seeded": f"{seeded.users:,} users, {seeded.orders:,} orders,"
        f" {seeded.order_lines:,} order lines in {seeded.elapsed_seconds:.1f}s",
        "gateway": "1 uvicorn worker (subprocess), GATEWAY_ENV=dev",
        "load": f"{options.concurrency} concurrent clients (httpx, keep-alive),"
        f" {options.warmup_seconds:g}s warm-up + {options.duration_seconds:g}s per scenario",
        "machine": f"{cores} CPU cores, Python {platform.python_version()}, {platform.system()}",
        "note": "the load generator shares the machine with the server, so req/s are a lower"
        " bound; compare the ratios to plain-json and the SQL/req",
    }


async def run(options: Options, on_ready: Callable[[], None] | None = None) -> RunReport:
    """Run every scenario once against one fresh server and return the report."""
    with tempfile.TemporaryDirectory(prefix="manifold-bench-") as temp:
        data_dir = Path(temp)
        async with scratch_database(options.database_url) as database_url:
            _progress(
                f"seeding {options.users:,} users x {options.orders_per_user} orders"
                f" into {make_url(database_url).database}"
            )
            seeded = await _seed(database_url, options)
            # Created before the server starts, so the server loads this key, not its own.
            issuer = DevIssuer.load_or_create(data_dir)
            settings = {
                "GATEWAY_ENV": "dev",
                "GATEWAY_DATABASE_URL": database_url,
                "GATEWAY_DATA_DIR": str(data_dir),
                "GATEWAY_OAUTH_AUDIENCE": AUDIENCE,
            }
            if options.redis_url:
                settings["GATEWAY_REDIS_URL"] = options.redis_url
            _progress("starting the gateway")
            async with gateway_server(settings, data_dir / "gateway.log") as server:
                if on_ready is not None:
                    on_ready()
                reports = await _measure(server, issuer, options)
            return RunReport(setup=_setup(options, database_url, seeded), scenarios=reports)


async def _measure(
    server: RunningServer, issuer: DevIssuer, options: Options
) -> list[ScenarioReport]:
    reports: list[ScenarioReport] = []
    reference: ScenarioReport | None = None
    warmup = LoadPhase(options.warmup_seconds, options.max_requests)
    measured = LoadPhase(options.duration_seconds, options.max_requests)
    async with open_clients(server.base_url, options.concurrency) as clients:
        for scenario in build_scenarios(issuer, audience=AUDIENCE):
            _progress(f"{scenario.name}: {options.warmup_seconds:g}s warm-up")
            await run_load(clients, scenario.request, scenario.check, warmup)
            _progress(f"{scenario.name}: measuring for {options.duration_seconds:g}s")
            statements_before = await database_statements(clients[0])
            cpu_before = cpu_seconds(server.pid)
            result = await run_load(clients, scenario.request, scenario.check, measured)
            cpu_after = cpu_seconds(server.pid)
            statements_after = await database_statements(clients[0])
            report = summarize(
                name=scenario.name,
                description=scenario.description,
                result=result,
                statements=statements_after - statements_before,
                expected_statements=scenario.expected_statements,
                server_cpu_seconds=(
                    None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
                ),
                reference=reference,
            )
            reference = reference or report
            reports.append(report)
    return reports
