"""One gateway worker in a subprocess, started and stopped the way an operator would.

A subprocess rather than an in-process app: the gateway must not share an event loop (or the
GIL) with the load generator, and the numbers should describe what ``uvicorn`` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_CHARS = 4000


class ServerStartError(Exception):
    """The gateway exited or never became ready; the message carries its log's tail."""


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
    """The caller's environment without its ``GATEWAY_*`` variables, plus ``settings``.

    A developer's shell may point GATEWAY_DATABASE_URL at their own database or set an OAuth
    issuer; neither may leak into the benchmark's server.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
    except OSError:
        return "(no log)"


async def _wait_ready(process: asyncio.subprocess.Process, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last_answer = "no answer from /readyz"
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise ServerStartError(
                    f"the gateway exited with status {process.returncode}:\n{_log_tail(log_path)}"
                )
            with contextlib.suppress(httpx.TransportError):
                response = await client.get("/readyz")
                if response.status_code == 200:
                    return
                # Which dependency is not ready (e.g. an unreachable --redis-url).
                last_answer = f"/readyz answered {response.status_code}: {response.text[:500]}"
            await asyncio.sleep(0.1)
    raise ServerStartError(
        f"the gateway was not ready within {START_TIMEOUT_SECONDS:.0f}s ({last_answer})\n"
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
async def gateway_server(
    settings: Mapping[str, str], log_path: Path
) -> AsyncIterator[RunningServer]:
    """Run one uvicorn worker with ``settings`` as its environment until the block exits."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "gateway.asgi:app_from_environment", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=REPOSITORY,
            env=gateway_environment(settings),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only the benchmark, which then stops the server
            # in order (SIGTERM, wait) instead of both dying at once mid-request.
            start_new_session=True,
        )
        try:
            await _wait_ready(process, base_url, log_path)
            yield RunningServer(base_url=base_url, pid=process.pid)
        finally:
            await _stop(process)


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
