"""In-process execution cost per resolved field, next to graphql-core's floor.

HTTP, the load generator and the kernel blur what one operation costs to execute. This runs the
scenarios' operations through the gateway's own pipeline in this process (parse cache, limits,
authorization, cost, execution, error classification; no HTTP, no token check) and reports CPU
time per resolved field:

* ``real``: the dataloaders reach PostgreSQL (and the demo REST services) as in production;
* ``preloaded``: every dataloader batch is answered from memory after one real run, so the
  figure is the gateway's own work per field;
* ``floor``: raw graphql-core executing the same result shape from plain dicts, the least any
  interpreted Python executor can cost.

Run it on a seeded database (``gateway db seed``) with ``python -m bench.inprocess --database-url
…``; ``--interpreted`` turns the compiled execution path off to compare the two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import graphql

from bench.scenarios import QUERIES
from contract.scopes import Scope

STAFF_SCOPES = frozenset({Scope.USERS_READ, Scope.ORDERS_READ_ALL})


def count_fields(value: Any) -> int:
    """Every key of every object in the answer: what "resolved fields" counts."""
    if isinstance(value, dict):
        return len(value) + sum(count_fields(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_fields(item) for item in value)
    return 0


def floor_sdl(data: Any, real: graphql.GraphQLSchema) -> tuple[graphql.GraphQLSchema, str]:
    """A schema and a document with exactly the shape of ``data``, for the floor.

    Each field keeps the real schema's wrappers (non-null, list): graphql-core completes a
    nullable field at about twice the cost of a non-null one, so a floor with other
    nullability would not be the same work.
    """
    types: dict[str, dict[str, str]] = {}

    def shape(name: str, value: Any, output: Any) -> str:
        if isinstance(output, graphql.GraphQLNonNull):
            return shape(name, value, output.of_type) + "!"
        if isinstance(output, graphql.GraphQLList):
            item = next((v for v in value if v is not None), None) if value else None
            return f"[{shape(name, item, output.of_type)}]"
        if isinstance(value, dict):
            type_fields = types.setdefault(name, {})
            for key, child in value.items():
                field = output.fields[key]  # the scenarios use no aliases
                type_fields.setdefault(key, shape(f"{name}_{key}", child, field.type))
            return name
        if output.name in {"Int", "Float", "Boolean", "ID", "String"}:
            return str(output.name)
        return "String"

    shape("Query", data, real.query_type)
    sdl = "\n".join(
        f"type {name} {{ {' '.join(f'{key}: {kind}' for key, kind in type_fields.items())} }}"
        for name, type_fields in types.items()
    )

    def selection(name: str) -> str:
        parts = []
        for key, kind in types[name].items():
            bare = kind.replace("[", "").replace("]", "").replace("!", "")
            parts.append(f"{key} {{ {selection(bare)} }}" if bare in types else key)
        return " ".join(parts)

    return graphql.build_schema(sdl), "{ " + selection("Query") + " }"


async def measure(run: Callable[[], Awaitable[Any]], seconds: float) -> tuple[float, float, int]:
    """Median CPU and wall milliseconds of one run, and the number of runs."""
    for _ in range(3):
        await run()
    cpus: list[float] = []
    walls: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(cpus) < 5:
        cpu, wall = time.process_time(), time.perf_counter()
        await run()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(cpus) * 1000, statistics.median(walls) * 1000, len(cpus)


class _Memo:
    """Dataloader batch functions answered from memory after their first real call."""

    def __init__(self, real: Any) -> None:
        from datasources.loaders import Loaders  # noqa: PLC0415 - after the environment is set

        self._answers: dict[Any, Any] = {}
        self._batches = {name: self._remembering(name, real) for name in Loaders.names()}

    def _remembering(self, name: str, real: Any) -> Any:
        batch_load = getattr(real, name).batch_load_fn

        async def batch(keys: list[Any]) -> Any:
            key = (name, tuple(keys))
            if key not in self._answers:
                self._answers[key] = await batch_load(keys)
            return self._answers[key]

        return batch

    def loaders(self) -> Any:
        from aiodataloader import DataLoader  # noqa: PLC0415

        from datasources.loaders import MAX_BATCH_SIZE, Loaders  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        return Loaders(
            **{
                name: DataLoader(fn, max_batch_size=MAX_BATCH_SIZE, loop=loop)
                for name, fn in self._batches.items()
            }
        )


def _runner(pipeline: Any, name: str, timeout: float) -> Callable[[], Awaitable[Any]]:
    """One execution of scenario ``name`` through ``pipeline``, as its caller."""
    from auth.principal import Principal, PrincipalKind  # noqa: PLC0415
    from datasources.resilience import Deadline  # noqa: PLC0415
    from gateway.operations.request import (  # noqa: PLC0415
        OperationCall,
        OperationRequest,
        Transport,
    )

    query, subject, scopes = QUERIES[name]
    principal = Principal(PrincipalKind.USER, subject, frozenset(scopes))

    async def caller() -> Principal:
        return principal

    async def run() -> Any:
        outcome = await pipeline.run(
            OperationCall(
                operation=OperationRequest(query=query),
                transport=Transport.HTTP_POST,
                principal=caller,
                deadline=Deadline(timeout),
                request_id="inprocess",
            )
        )
        if outcome.status != 200 or "errors" in outcome.payload:
            raise SystemExit(f"{name}: {outcome.status} {str(outcome.payload)[:300]}")
        return outcome.payload["data"]

    return run


async def _floor(
    name: str, reference: Any, real: graphql.GraphQLSchema, seconds: float
) -> dict[str, Any]:
    schema, document_text = floor_sdl(reference, real)
    document = graphql.parse(document_text)

    async def floor() -> Any:
        return graphql.execute_sync(schema, document, root_value=reference).data

    if await floor() != reference:
        raise SystemExit(f"{name}: the floor's answer differs")
    cpu, wall, runs = await measure(floor, seconds)
    return _row(name, "graphql-core floor", count_fields(reference), (cpu, wall, runs))


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    os.environ.setdefault("GATEWAY_RATE_LIMIT_BUDGET", "1000000000")
    if args.interpreted:
        os.environ["GATEWAY_COMPILED_EXECUTION"] = "false"
    from datasources.loaders import build_loaders  # noqa: PLC0415 - after the environment
    from datasources.resilience import Deadline  # noqa: PLC0415
    from gateway.runtime.resources import open_resources  # noqa: PLC0415
    from gateway.settings import Settings  # noqa: PLC0415

    settings = Settings(database_url=args.database_url, data_dir=args.data_dir)
    results: list[dict[str, Any]] = []
    async with open_resources(settings) as resources:
        pipeline = resources.pipeline
        memo = _Memo(build_loaders(resources.backends, deadline=Deadline(3600)))
        context_of = pipeline.context
        for name in args.queries:
            run = _runner(pipeline, name, settings.request_timeout_seconds)
            reference = await run()
            fields = count_fields(reference)
            if "real" in args.variants:
                results.append(_row(name, "real", fields, await measure(run, args.seconds)))
            if "preloaded" in args.variants:

                def preloaded(prepared: Any) -> Any:
                    context = context_of(prepared)
                    context.loaders = memo.loaders()
                    return context

                pipeline.context = preloaded  # type: ignore[method-assign]
                try:
                    if await run() != reference:
                        raise SystemExit(f"{name}: the preloaded answer differs")
                    timed = await measure(run, args.seconds)
                    results.append(_row(name, "preloaded", fields, timed))
                finally:
                    pipeline.context = context_of  # type: ignore[method-assign]
            if "floor" in args.variants:
                real_schema = pipeline.schema._schema
                results.append(await _floor(name, reference, real_schema, args.seconds))
    return results


def _row(query: str, variant: str, count: int, timed: tuple[float, float, int]) -> dict[str, Any]:
    cpu, wall, runs = timed
    return {
        "query": query,
        "variant": variant,
        "fields": count,
        "runs": runs,
        "cpu_ms": round(cpu, 3),
        "wall_ms": round(wall, 3),
        "cpu_us_per_field": round(cpu * 1000 / count, 3),
    }


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", default=".data/bench-inprocess")
    parser.add_argument("--queries", nargs="+", default=["Q1", "Q2"])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--interpreted", action="store_true")
    parser.add_argument(
        "--gc-tuned", action="store_true", help="gc.freeze() and a higher threshold"
    )
    parser.add_argument(
        "--variants", nargs="+", default=["real", "preloaded", "floor"], help="what to measure"
    )
    parser.add_argument("--profile", help="write a cProfile of the measured runs to this file")
    args = parser.parse_args()
    if args.gc_tuned:
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
    if args.profile:
        import cProfile  # noqa: PLC0415

        profiler = cProfile.Profile()
        results = profiler.runcall(asyncio.run, main(args))
        profiler.dump_stats(args.profile)
    else:
        results = asyncio.run(main(args))
    for row in results:
        print(json.dumps(row))


if __name__ == "__main__":
    cli()
