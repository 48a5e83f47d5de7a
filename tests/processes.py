"""Gateways as real processes: ``gateway serve`` on a free loopback port, configured by
``GATEWAY_*`` variables, for behaviour that only a process shows (signals, uvicorn workers,
forwarded headers, the metrics port, log lines on stderr)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.private_servers import free_port

CLI = "from gateway.cli import main; main()"


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


def gateway_environment(settings: Mapping[str, object]) -> dict[str, str]:
    """``GATEWAY_*`` variables for ``settings`` (JSON for lists), on top of this environment."""
    import json  # noqa: PLC0415

    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")
    }
    for name, value in settings.items():
        if value is None:
            continue
        text = json.dumps(list(value)) if isinstance(value, list | tuple) else str(value)
        environment[f"GATEWAY_{name.upper()}"] = text
    return environment


def wait_until_ready(base_url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the gateway at {base_url} was not ready after {seconds} s")


@contextmanager
def gateway_process(
    settings: Mapping[str, object],
    log: Path,
    *,
    workers: int = 1,
    ready_seconds: float = 30.0,
) -> Iterator[GatewayProcess]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--port", str(port), "--workers", str(workers)],
            env=gateway_environment(settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    running = GatewayProcess(process=process, port=port, log=log)
    try:
        wait_until_ready(running.base_url, ready_seconds, process)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
