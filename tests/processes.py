"""Real gateway processes on free loopback ports, for what only a separate process shows:
signals, uvicorn workers, forwarded headers, the metrics port, log lines, the CLI's terminal
output, and clients (Node, a browser) that must reach a real socket.

Each process gets an environment without the caller's own ``GATEWAY_*`` settings
(``clean_environment``): nothing of the developer's or CI's configuration leaks in, so a test
says everything it runs with.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.private_servers import free_port

__all__ = [
    "CLI",
    "REPOSITORY",
    "GatewayProcess",
    "RunningProcess",
    "clean_environment",
    "free_port",
    "gateway_command",
    "gateway_environment",
    "gateway_process",
    "running",
    "running_gateway",
    "wait_until_ready",
]

CLI = "from gateway.cli import main; main()"
STARTUP_SECONDS = 60.0
REPOSITORY = Path(__file__).resolve().parents[1]


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any ``GATEWAY_`` variable, plus ``variables``."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")
    }
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(variables)
    return environment


def gateway_environment(settings: Mapping[str, object]) -> dict[str, str]:
    """``GATEWAY_*`` variables for ``settings`` (JSON for lists), on a clean environment."""
    return clean_environment(
        **{
            f"GATEWAY_{name.upper()}": json.dumps(list(value))
            if isinstance(value, list | tuple)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in settings.items()
            if value is not None
        }
    )


def gateway_command(*arguments: str) -> list[str]:
    """The ``gateway`` CLI, run with this interpreter."""
    return [sys.executable, "-c", CLI, *arguments]


def _wait_for(
    base_url: str,
    path: str,
    seconds: float,
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
) -> None:
    """Until ``path`` answers 200; an early exit of ``process`` fails at once."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before {path}")
        try:
            if httpx.get(base_url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base_url}{path} did not answer 200 within {seconds} s")


def wait_until_ready(base_url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
    _wait_for(base_url, "/readyz", seconds, process)


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- `gateway serve`, logging to a file --------------------------------------------------------


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signal(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self.process.send_signal(sig)

    def wait(self, seconds: float) -> int:
        return self.process.wait(timeout=seconds)

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()


@contextmanager
def gateway_process(
    settings: Mapping[str, object],
    log: Path,
    *,
    workers: int = 1,
    ready_seconds: float = 30.0,
) -> Iterator[GatewayProcess]:
    """``gateway serve`` with ``settings``, ready (``/readyz``), interrupted when the block ends."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            gateway_command("serve", "--port", str(port), "--workers", str(workers)),
            env=gateway_environment(settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = GatewayProcess(process=process, port=port, log=log)
    try:
        wait_until_ready(running.base_url, ready_seconds, process)
        yield running
    finally:
        _stop(process, signal.SIGINT)


# --- any command, its output captured ----------------------------------------------------------


@dataclass
class RunningProcess:
    process: subprocess.Popen[str]
    base_url: str

    def interrupt(self, timeout: float = 30.0) -> str:
        """Ctrl+C, as a terminal sends it; the combined output once the process has ended."""
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=timeout)
        return output


@contextmanager
def running(
    arguments: Sequence[str], *, port: int, environment: Mapping[str, str], cwd: Path
) -> Iterator[RunningProcess]:
    """Start ``arguments`` (which must listen on ``port``), wait for /healthz, and stop it (or
    kill it) when the block ends."""
    process = subprocess.Popen(
        list(arguments),
        cwd=cwd,
        env=dict(environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base_url, "/healthz", STARTUP_SECONDS, process)
        except (RuntimeError, TimeoutError) as error:
            _stop(process, signal.SIGTERM)
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"{error}:\n{output}") from None
        yield RunningProcess(process, base_url)
    finally:
        _stop(process, signal.SIGTERM)
        if process.stdout:
            process.stdout.close()


@contextmanager
def running_gateway(environment: Mapping[str, str], *, cwd: Path) -> Iterator[RunningProcess]:
    """``uvicorn gateway.asgi:app_from_environment`` as a deployment runs it."""
    port = free_port()
    arguments = [
        sys.executable,
        "-m",
        "uvicorn",
        "gateway.asgi:app_from_environment",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with running(arguments, port=port, environment=environment, cwd=cwd) as process:
        yield process
