"""Gateways as real processes: what must hold across replicas, and what a SIGKILL leaves.

Each process is ``uvicorn gateway.asgi:app_from_environment --factory``, configured only by
``GATEWAY_*`` variables as in production, serving a listening socket the test bound (port 0,
handed over with ``--fd``, so no port is ever guessed). Its output goes to a log file the
failure message quotes. (``tests/processes.py`` runs ``gateway serve`` and the CLI from
synchronous tests; these are driven from async ones, and SIGKILLed.)
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.processes import gateway_environment

STARTUP_SECONDS = 30.0


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def wait_exit(self, seconds: float = 10.0) -> int:
        """The exit status once the process ended (a negative signal number if killed)."""
        deadline = time.monotonic() + seconds
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the gateway did not exit:\n{self.log_tail()}")
            await asyncio.sleep(0.02)
        return self.process.returncode


@asynccontextmanager
async def gateway_process(
    settings: Mapping[str, object], *, log_dir: Path, name: str = "gateway"
) -> AsyncIterator[GatewayProcess]:
    """A gateway process serving ``settings`` on a free loopback port, stopped at the end."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once; waited on without blocking)
            [
                sys.executable,
                "-m",
                "uvicorn",
                "gateway.asgi:app_from_environment",
                "--factory",
                "--fd",
                str(listener.fileno()),
                "--log-level",
                "warning",
                "--no-access-log",
                "--ws",
                "websockets-sansio",
            ],
            env=gateway_environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
    listener.close()  # the child holds its own copy
    running = GatewayProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        await _until_healthy(running)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await running.wait_exit(seconds=10)
            except AssertionError:
                process.kill()
                process.wait()


async def _until_healthy(running: GatewayProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            if running.process.poll() is not None:
                raise AssertionError(f"the gateway exited at start:\n{running.log_tail()}")
            try:
                if (await client.get(running.url + "/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the gateway did not start:\n{running.log_tail()}")
            await asyncio.sleep(0.05)
