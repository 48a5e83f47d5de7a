"""Serve an ASGI app on loopback from a background thread, for tests and ``gateway demo``.

The gateway must reach the demo upstreams over real HTTP (keep-alive, timeouts, size caps and
hangs only exist on a socket), yet tests and the demo want them in-process and on ports that
cannot collide. So the socket is bound here, on a free port when ``port`` is 0, before uvicorn
starts in its own thread with its own event loop; the caller gets the base URL once the server
is accepting connections and the server is stopped when the block ends.

uvicorn logs through one process-wide logger (``uvicorn.error``), so a background server would
repeat the foreground server's lifecycle lines ("Shutting down", "Application shutdown
complete"…) once per server when the foreground one turns INFO on: its own INFO lines are
dropped, its warnings and errors kept.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serving"]

_STARTUP_SECONDS = 10.0


class _QuietThread(logging.Filter):
    """Keeps one background server's INFO lines out of the shared uvicorn log."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.threadName != self.thread_name


@contextmanager
def serving(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    graceful_shutdown_seconds: int = 1,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[str]:
    """Run ``app`` on ``host:port`` (a free port when 0) and yield ``http://host:port``
    (``https://localhost:port`` with a certificate and key, for TLS trust tests).

    On exit the server stops accepting, gives in-flight requests ``graceful_shutdown_seconds``
    (a request held by an injected hang only ends when its client hangs up), then stops.
    """
    config = uvicorn.Config(
        app,
        lifespan="auto",
        loop="asyncio",
        http="h11",
        ws="none",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=graceful_shutdown_seconds,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    server = uvicorn.Server(config)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every answer written in two parts waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        bound_host, bound_port = listener.getsockname()[:2]
        name = f"demo-server-{bound_port}"
        quiet = _QuietThread(name)
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(quiet)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name=name, daemon=True
        )
        thread.start()
        try:
            _wait_until_started(server, thread)
            if ssl_certfile is not None:
                yield f"https://localhost:{bound_port}"
            else:
                yield f"http://{bound_host}:{bound_port}"
        finally:
            server.should_exit = True
            thread.join(timeout=_STARTUP_SECONDS + graceful_shutdown_seconds)
            uvicorn_log.removeFilter(quiet)
            if thread.is_alive():
                raise RuntimeError(f"the server on port {bound_port} did not stop")
    finally:
        listener.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server failed to start")
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start in time")
        time.sleep(0.005)
