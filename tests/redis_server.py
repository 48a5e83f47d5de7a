"""A Redis of the test's own, to stop and start again: the shared one is never touched.

It listens on a Unix socket in the test's temporary directory (no port to choose), keeps
nothing on disk, and ``stop`` / ``start`` make an outage and a recovery at the same address.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.services import require_or_skip


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.socket = directory / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            require_or_skip("redis-server is not installed")
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        self.socket.unlink(missing_ok=True)
