"""The load generator: wrk, a compiled closed-loop HTTP client, pinned to a core of its own.

A Python client on the same two cores as the server measures itself as much as the server:
it spends a core on a cheap endpoint before the server does. wrk on its own core (the server
is pinned to the other, see ``bench.server``) keeps the server the bottleneck, and its Lua
script counts every non-2xx answer and every answer carrying ``errors``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import tempfile
from pathlib import Path

from bench.load import LoadResult, Request

SCRIPT = Path(__file__).with_name("wrk.lua")
#: The core wrk runs on; the server runs on core 0 (``bench.server.SERVER_CORE``).
CLIENT_CORE = 1
REQUEST_TIMEOUT_SECONDS = 30


class LoadGeneratorMissingError(RuntimeError):
    """wrk is not installed."""


def pinned(command: list[str], core: int) -> list[str]:
    """``command`` on one core when the machine has more than one and ``taskset`` exists."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(core), *command]
    return command


async def run_wrk(
    base_url: str, request: Request, *, seconds: float, concurrency: int
) -> LoadResult:
    """``concurrency`` connections sending ``request`` for ``seconds``, closed loop."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise LoadGeneratorMissingError("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as body:
        headers = dict(request.headers)
        if request.json is not None:
            body.write(json.dumps(request.json).encode())
            body.flush()
            headers.setdefault("Content-Type", "application/json")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BENCH_METHOD": request.method,
            "BENCH_BODY_FILE": body.name if request.json is not None else "",
            "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
        }
        command = pinned(
            [
                wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
                f"--timeout={REQUEST_TIMEOUT_SECONDS}s", "-s", str(SCRIPT),
                base_url + request.path,
            ],
            CLIENT_CORE,
        )  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = _summary(stdout.decode(errors="replace"), stderr.decode(errors="replace"))
    result = LoadResult(
        requests=summary["requests"],
        errors=summary["non2xx"] + summary["graphql_errors"] + summary["socket_errors"],
        elapsed_seconds=summary["duration_us"] / 1e6,
        client_cpu_seconds=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        p50_seconds=summary["p50_us"] / 1e6,
        p99_seconds=summary["p99_us"] / 1e6,
    )
    for name in ("non2xx", "graphql_errors", "socket_errors"):
        if summary[name]:
            result.error_samples.append(f"{summary[name]} {name.replace('_', ' ')}")
    return result


def _summary(stdout: str, stderr: str) -> dict[str, int]:
    for line in stdout.splitlines():
        if line.startswith("BENCHJSON "):
            parsed: dict[str, int] = json.loads(line.removeprefix("BENCHJSON "))
            return parsed
    raise RuntimeError(f"wrk printed no summary: {stdout[-500:]} {stderr[-500:]}")
