"""One benchmark run, start to finish: database, seed, upstreams, server, scenarios, clean-up.

Everything the run creates (database, data directory, server process) is owned by a context
manager here, so an error or Ctrl-C at any point unwinds them in reverse order.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from auth.dev_issuer import DevIssuer
from bench.database import scratch_database
from bench.load import Request
from bench.report import RunReport, ScenarioReport, summarize
from bench.scenarios import DATABASE, UPSTREAMS, build_scenarios, datasource_calls
from bench.server import SERVER_CORE, RunningServer, cpu_seconds, gateway_server, peak_rss_mib
from bench.upstreams import demo_upstreams
from bench.wrk import pinned, run_wrk
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
    #: Also measure the in-process cost per field (``bench.inprocess``) after the HTTP runs.
    in_process: bool = True


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
        "load": f"wrk, {options.concurrency} connections (closed loop, keep-alive), on its own"
        f" core; {options.warmup_seconds:g}s warm-up + {options.duration_seconds:g}s per"
        " scenario",
        "machine": f"{cores} CPU cores, Python {platform.python_version()}, {platform.system()}",
        "pinning": f"gateway on core {SERVER_CORE}, wrk on another (when the machine has two)",
    }


@asynccontextmanager
async def benchmark_gateway(
    options: Options, extra_settings: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[RunningServer, DevIssuer, dict[str, Any], dict[str, str]]]:
    """A seeded scratch database, the demo upstreams and one gateway worker, torn down after.

    Yields the server, the issuer whose tokens it accepts, the setup for the report, and the
    gateway's settings (for in-process runs on the same data and services).
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
                    yield server, issuer, _setup(options, database_url, seeded), settings


async def run(options: Options, on_ready: Callable[[], None] | None = None) -> RunReport:
    """Run every scenario once against one fresh server and return the report."""
    async with benchmark_gateway(options) as (server, issuer, setup, settings):
        if on_ready is not None:
            on_ready()
        reports = await _measure(server, issuer, options)
        # The gateway is idle now: the in-process runs have its core to themselves.
        in_process = await _in_process(settings) if options.in_process else []
    return RunReport(setup=setup, scenarios=reports, in_process=in_process)


async def _in_process(settings: Mapping[str, str]) -> list[dict[str, Any]]:
    """``bench.inprocess`` on the same data and services: the compiled and interpreted paths'
    cost per resolved field, beside graphql-core's floor."""
    rows: list[dict[str, Any]] = []
    for extra in ([], ["--interpreted"]):
        _progress("in-process cost per field" + (" (interpreted)" if extra else ""))
        command = pinned(
            [
                sys.executable, "-m", "bench.inprocess",
                "--database-url", settings["GATEWAY_DATABASE_URL"],
                "--data-dir", str(Path(settings["GATEWAY_DATA_DIR"]) / "inprocess"),
                "--queries", "Q1", "Q2", "Q3", "--seconds", "2",
                "--variants", "preloaded", *([] if extra else ["floor"]), *extra,
            ],
            SERVER_CORE,
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, **settings},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        stdout, _ = await process.communicate()
        label = "interpreted" if extra else "compiled"
        for line in stdout.decode().splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                if row["variant"] == "preloaded":
                    row["variant"] = f"{label} (preloaded loaders)"
                rows.append(row)
    return rows


async def _measure(
    server: RunningServer, issuer: DevIssuer, options: Options
) -> list[ScenarioReport]:
    reports: list[ScenarioReport] = []
    reference: ScenarioReport | None = None
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=30) as client:
        for scenario in build_scenarios(issuer, audience=AUDIENCE):
            # One request checked in full (the right rows, no errors) before wrk repeats it.
            reason = scenario.check(await _send(client, scenario.request))
            if reason is not None:
                raise RuntimeError(f"{scenario.name}: {reason}")
            _progress(f"{scenario.name}: {options.warmup_seconds:g}s warm-up")
            if options.warmup_seconds:
                await run_wrk(
                    server.base_url,
                    scenario.request,
                    seconds=options.warmup_seconds,
                    concurrency=options.concurrency,
                )
            _progress(f"{scenario.name}: measuring for {options.duration_seconds:g}s")
            # The window runs from an idle server to an idle server: requests the warm-up left
            # in flight are not counted in it, and the ones wrk leaves in flight (one per
            # connection, closed loop) are, with the time the server takes to finish them.
            await wait_idle(server.pid)
            calls_before = await datasource_calls(client)
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            result = await run_wrk(
                server.base_url,
                scenario.request,
                seconds=options.duration_seconds,
                concurrency=options.concurrency,
            )
            await wait_idle(server.pid)
            result.requests += options.concurrency
            result.elapsed_seconds = time.perf_counter() - started - IDLE_SECONDS
            cpu_after = cpu_seconds(server.pid)
            calls_after = await datasource_calls(client)
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
                peak_rss_mib=peak_rss_mib(server.pid),
            )
            reference = reference or report
            reports.append(report)
    return reports


#: How long a server's CPU time must stay still for it to count as idle.
IDLE_SECONDS = 0.3


async def wait_idle(pid: int, *, limit_seconds: float = 60.0) -> None:
    """Until the server has used no CPU for ``IDLE_SECONDS`` (or ``limit_seconds`` passed)."""
    deadline = time.perf_counter() + limit_seconds
    last = cpu_seconds(pid)
    while time.perf_counter() < deadline:
        await asyncio.sleep(IDLE_SECONDS)
        now = cpu_seconds(pid)
        if now is None or last is None or now - last < 0.01:
            return
        last = now


async def _send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    return await client.request(
        request.method, request.path, headers=request.headers, json=request.json
    )
