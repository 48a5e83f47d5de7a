"""Real gateway processes on free loopback ports, for what only a separate process shows: the
CLI's output and signals, and clients (Node, a browser) that must reach a real socket.

Each process gets an environment built from scratch (``clean_environment``): nothing of the
developer's or CI's own ``GATEWAY_*`` settings leaks in, so a test says everything it runs with.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60.0
REPOSITORY = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ``GATEWAY_`` variable, plus ``settings``."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")
    }
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(settings)
    return environment


@dataclass
class RunningProcess:
    process: subprocess.Popen[str]
    base_url: str

    def interrupt(self, timeout: float = 30.0) -> str:
        """Ctrl+C, as a terminal sends it; the combined output once the process has ended."""
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=timeout)
        return output


def _wait_until_healthy(process: subprocess.Popen[str], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"the process exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} did not become healthy in {STARTUP_SECONDS} s")


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
        _wait_until_healthy(process, base_url)
        yield RunningProcess(process, base_url)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
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


def gateway_command(*arguments: str) -> list[str]:
    """The ``gateway`` CLI, run with this interpreter."""
    return [sys.executable, "-c", "from gateway.cli import main; main()", *arguments]
