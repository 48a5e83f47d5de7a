"""``python -m bench``: parse options, run once, print the report (and write it as JSON).

Exit status: 0 on a clean run, 1 when any measured request failed (the numbers would then
describe error handling, not the queries), 2 when PostgreSQL cannot be used, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import orjson

from bench.database import DatabaseUnavailableError
from bench.overload import as_json as overload_json
from bench.overload import holds, render_overload, run_overload
from bench.report import render
from bench.run import Options, run
from bench.server import ServerStartError
from bench.wrk import LoadGeneratorMissingError

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


def parse_args(argv: list[str] | None = None) -> tuple[Options, Path | None, bool]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark one gateway worker: GraphQL queries against its /healthz.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GATEWAY_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL server (postgresql+asyncpg://...) on which a scratch database is"
        " created and dropped; default $GATEWAY_BENCH_DATABASE_URL or %(default)s",
    )
    parser.add_argument("--redis-url", default=None, help="Redis for the gateway (optional)")
    parser.add_argument("--users", type=_positive_int, default=1000)
    parser.add_argument("--orders-per-user", type=_positive_int, default=10)
    parser.add_argument(
        "--duration", type=_seconds, default=10.0, help="measured seconds per scenario"
    )
    parser.add_argument(
        "--warmup", type=_seconds, default=2.0, help="unmeasured seconds before each scenario"
    )
    parser.add_argument("--concurrency", type=_positive_int, default=32)
    parser.add_argument(
        "--no-in-process",
        action="store_true",
        help="skip the in-process cost per field after the HTTP scenarios",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--overload",
        action="store_true",
        help="instead of the scenarios: Q3 with wrk at 1x, 2x, 4x and 8x the saturation load"
        " (--concurrency, also the gateway's concurrency limit)",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0:
        parser.error("--duration must be positive")
    options = Options(
        database_url=args.database_url,
        redis_url=args.redis_url,
        users=args.users,
        orders_per_user=args.orders_per_user,
        duration_seconds=args.duration,
        warmup_seconds=args.warmup,
        concurrency=args.concurrency,
        in_process=not args.no_in_process,
    )
    return options, args.json, args.overload


def main(argv: list[str] | None = None) -> int:
    options, json_path, overload = parse_args(argv)
    if overload:
        return _overload(options, json_path)
    try:
        report = asyncio.run(run(options))
    except DatabaseUnavailableError as error:
        print(f"bench: PostgreSQL is not usable: {error}", file=sys.stderr)
        print(
            "bench: start PostgreSQL or pass --database-url / GATEWAY_BENCH_DATABASE_URL",
            file=sys.stderr,
        )
        return 2
    except LoadGeneratorMissingError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except ServerStartError as error:
        # The message names the server (gateway, content or recommendations service).
        print(f"bench: a server did not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped and scratch database dropped", file=sys.stderr)
        return 130

    print(render(report))
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2))
    return 1 if any(scenario.errors for scenario in report.scenarios) else 0


def _overload(options: Options, json_path: Path | None) -> int:
    try:
        steps = asyncio.run(run_overload(options))
    except (DatabaseUnavailableError, ServerStartError, RuntimeError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(render_overload(steps))
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(overload_json(steps), option=orjson.OPT_INDENT_2))
    return 0 if holds(steps) else 1


if __name__ == "__main__":
    sys.exit(main())
