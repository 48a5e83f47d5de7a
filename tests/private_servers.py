"""Throw-away PostgreSQL and Redis servers that a fault test may stop, freeze and kill.

The shared servers on 5432 and 6379 serve every engineer's tests and are never touched: a fault
test starts its own server on a free port under a temporary directory, and stops it when done.
Freezing is SIGSTOP on every process of the server (PostgreSQL's postmaster and its backends),
so the kernel still accepts connections and nothing ever answers: the worst kind of outage.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from tests.services import require_or_skip

PG_BIN = Path(os.environ.get("GATEWAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root; CI and these machines run tests as root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("running as root needs runuser to start a private PostgreSQL")
    return [runuser, "-u", "postgres", "--"]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: the ppid follows the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@dataclass
class PrivatePostgres:
    """One PostgreSQL cluster of the test's own: ``stop``/``start``, ``freeze``/``thaw``."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(
            [*_as_postgres_user(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), *arguments],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def processes(self) -> list[int]:
        postmaster = self.postmaster_pid()
        return [postmaster, *_children(postmaster)]

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang, queries never answer."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, number: signal.Signals) -> None:
        for pid in self.processes():
            # A backend may exit between being listed and being signalled.
            with suppress(ProcessLookupError):
                os.kill(pid, number)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        require_or_skip(f"no PostgreSQL binaries in {PG_BIN}")
    directory = Path(tempfile.mkdtemp(prefix="manifold-pg-"))
    directory.chmod(0o777)
    server = PrivatePostgres(directory=directory, port=free_port())
    try:
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "initdb"),
                "-D",
                str(server.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        _start_on_a_free_port(server, "PostgreSQL")
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            with suppress(OSError, ValueError):
                server.thaw()
            with suppress(subprocess.SubprocessError):
                server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, 10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class _OnAPort(Protocol):
    directory: Path
    port: int

    def start(self) -> None: ...


def _start_on_a_free_port(server: _OnAPort, name: str) -> None:
    """Start ``server``; when another process took its free port between our probe and the
    bind, retry on a new one, and say why if it keeps failing."""
    for attempt in range(3):
        try:
            server.start()
            return
        except subprocess.CalledProcessError:
            if attempt == 2:
                log = server.directory / "log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"the private {name} did not start:\n{tail}") from None
            server.port = free_port()


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        require_or_skip("no redis-server on PATH")
    directory = Path(tempfile.mkdtemp(prefix="manifold-redis-"))
    server = PrivateRedis(directory=directory, port=free_port())
    try:
        _start_on_a_free_port(server, "redis-server")
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
