"""Servers in subprocesses (the gateway worker, the demo upstreams), started and stopped the way
an operator would.

Subprocesses rather than in-process apps: no server may share an event loop (or the GIL) with
the load generator or with another server, and the numbers should describe what ``uvicorn``
serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.wrk import pinned

REPOSITORY = Path(__file__).resolve().parent.parent
#: The core the gateway runs on; wrk runs on another (``bench.wrk.CLIENT_CORE``).
SERVER_CORE = 0
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_CHARS = 4000


#: Variables a child server must not inherit from the caller's shell: the gateway's settings and
#: the demo services' initial faults.
_PRIVATE_PREFIXES = ("GATEWAY_", "DEMO_")


class ServerStartError(Exception):
    """A server exited or never became ready; the message names it and carries its log's tail."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str
    pid: int


def free_port() -> int:
    """A port nothing listens on now; the tiny race with other programs is acceptable here."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def gateway_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without ``GATEWAY_*`` and ``DEMO_*`` variables, plus ``settings``.

    A developer's shell may point GATEWAY_DATABASE_URL at their own database, set an OAuth
    issuer or leave DEMO_LATENCY_MS from a fault demo; none may leak into the benchmark's servers.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_PRIVATE_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
    except OSError:
        return "(no log)"


async def _wait_ready(
    process: asyncio.subprocess.Process,
    name: str,
    base_url: str,
    ready_path: str,
    log_path: Path,
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last_answer = f"no answer from {ready_path}"
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise ServerStartError(
                    f"the {name} exited with status {process.returncode}:\n{_log_tail(log_path)}"
                )
            with contextlib.suppress(httpx.TransportError):
                response = await client.get(ready_path)
                if response.status_code == 200:
                    return
                # Which dependency is not ready (e.g. an unreachable --redis-url).
                last_answer = f"{ready_path} answered {response.status_code}: {response.text[:500]}"
            await asyncio.sleep(0.1)
    raise ServerStartError(
        f"the {name} was not ready within {START_TIMEOUT_SECONDS:.0f}s ({last_answer})\n"
        f"{_log_tail(log_path)}"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM for a graceful shutdown, then SIGKILL if it does not come."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@asynccontextmanager
async def server_process(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str],
    log_path: Path,
) -> AsyncIterator[RunningServer]:
    """Run ``command`` (a server listening on 127.0.0.1:``port``) until the block exits.

    The block is entered once ``ready_path`` answers 200; on exit, even on errors and Ctrl-C,
    the process gets SIGTERM, then SIGKILL if it does not stop in time.
    """
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=REPOSITORY,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only the benchmark, which then stops the server
            # in order (SIGTERM, wait) instead of both dying at once mid-request.
            start_new_session=True,
        )
        try:
            await _wait_ready(process, name, base_url, ready_path, log_path)
            yield RunningServer(base_url=base_url, pid=process.pid)
        finally:
            await _stop(process)


@asynccontextmanager
async def gateway_server(
    settings: Mapping[str, str], log_path: Path
) -> AsyncIterator[RunningServer]:
    """Run one uvicorn worker with ``settings`` as its environment until the block exits."""
    port = free_port()
    command = pinned(
        [
            sys.executable, "-m", "uvicorn", "gateway.asgi:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ],
        SERVER_CORE,
    )  # fmt: skip
    async with server_process(
        "gateway",
        command,
        port=port,
        ready_path="/readyz",
        env=gateway_environment(settings),
        log_path=log_path,
    ) as server:
        yield server


def peak_rss_mib(pid: int) -> float | None:
    """The process's resident memory high-water mark (``VmHWM``) in MiB; ``None`` elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far, from ``/proc``; ``None`` elsewhere.

    The server's CPU per request is the number least disturbed by the load generator sharing
    the machine, so it is worth reading even though only Linux offers it cheaply.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the fields after it are space-separated.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
