"""One benchmark run, start to finish: database, seed, upstreams, server, scenarios, clean-up.

Everything the run creates (database, data directory, server process) is owned by a context
manager here, so an error or Ctrl-C at any point unwinds them in reverse order.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from auth.dev_issuer import DevIssuer
from bench.database import scratch_database
from bench.load import LoadPhase, open_clients, run_load
from bench.report import RunReport, ScenarioReport, summarize
from bench.scenarios import DATABASE, UPSTREAMS, build_scenarios, datasource_calls
from bench.server import RunningServer, cpu_seconds, gateway_server
from bench.upstreams import demo_upstreams
from datasources.db import create_engine
from datasources.migrate import upgrade_database
from demo.seed import DEFAULT_SEED, SeedReport, seed_database

AUDIENCE = "manifold-bench"
#: Cost budget per principal and window: the rate limiter still runs on every request (its
#: cost is part of what is measured) but never refuses one, as the default 10,000 points an
#: hour would within seconds of load from one subject.
RATE_LIMIT_BUDGET = 1_000_000_000


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
            engine, users=options.users, orders_per_user=options.orders_per_user, seed=DEFAULT_SEED
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
        "gateway": "1 uvicorn worker (subprocess), GATEWAY_ENV=dev, rate-limit budget"
        f" {RATE_LIMIT_BUDGET:,} (never refuses)",
        "upstreams": "demo content and recommendations services, 1 subprocess each on"
        " loopback, no injected faults",
        "load": f"{options.concurrency} concurrent clients (httpx, keep-alive),"
        f" {options.warmup_seconds:g}s warm-up + {options.duration_seconds:g}s per scenario",
        "machine": f"{cores} CPU cores, Python {platform.python_version()}, {platform.system()}",
        "note": "the load generator shares the machine with the server, so req/s are a lower"
        " bound; compare the ratios to plain-json and the SQL and upstream calls per request",
    }


@asynccontextmanager
async def benchmark_gateway(
    options: Options, extra_settings: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[RunningServer, DevIssuer, dict[str, Any]]]:
    """A seeded scratch database, the demo upstreams and one gateway worker, torn down after.

    Yields the server, the issuer whose tokens it accepts, and the setup for the report.
    """
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
            _progress("starting the demo content and recommendations services")
            async with demo_upstreams(
                users=options.users,
                orders_per_user=options.orders_per_user,
                seed=DEFAULT_SEED,
                log_dir=data_dir,
            ) as upstreams:
                settings = {
                    "GATEWAY_ENV": "dev",
                    "GATEWAY_DATABASE_URL": database_url,
                    "GATEWAY_DATA_DIR": str(data_dir),
                    "GATEWAY_OAUTH_AUDIENCE": AUDIENCE,
                    "GATEWAY_RATE_LIMIT_BUDGET": str(RATE_LIMIT_BUDGET),
                    **upstreams.gateway_settings(),
                    **(extra_settings or {}),
                }
                if options.redis_url:
                    settings["GATEWAY_REDIS_URL"] = options.redis_url
                _progress("starting the gateway")
                async with gateway_server(settings, data_dir / "gateway.log") as server:
                    yield server, issuer, _setup(options, database_url, seeded)


async def run(options: Options, on_ready: Callable[[], None] | None = None) -> RunReport:
    """Run every scenario once against one fresh server and return the report."""
    async with benchmark_gateway(options) as (server, issuer, setup):
        if on_ready is not None:
            on_ready()
        reports = await _measure(server, issuer, options)
    return RunReport(setup=setup, scenarios=reports)


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
            calls_before = await datasource_calls(clients[0])
            cpu_before = cpu_seconds(server.pid)
            result = await run_load(clients, scenario.request, scenario.check, measured)
            cpu_after = cpu_seconds(server.pid)
            calls_after = await datasource_calls(clients[0])
            calls = {
                source: calls_after.get(source, 0.0) - calls_before.get(source, 0.0)
                for source in (DATABASE, *UPSTREAMS)
            }
            report = summarize(
                name=scenario.name,
                description=scenario.description,
                result=result,
                statements=calls[DATABASE],
                expected_statements=scenario.expected_statements,
                upstream_calls={upstream: calls[upstream] for upstream in UPSTREAMS},
                expected_upstream_calls=scenario.expected_upstream_calls,
                server_cpu_seconds=(
                    None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
                ),
                reference=reference,
            )
            reference = reference or report
            reports.append(report)
    return reports
