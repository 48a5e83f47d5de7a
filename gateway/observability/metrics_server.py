"""``/metrics`` on a port of its own (``GATEWAY_METRICS_PORT``), away from API clients.

prometheus_client's threaded server reads the app's registry directly, so a scrape never waits
behind GraphQL traffic on the event loop (or in the admission queue) and works while the app is
overloaded, which is when its metrics matter most.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server


@contextmanager
def serving_metrics(registry: CollectorRegistry, *, host: str, port: int) -> Iterator[int]:
    """Serve ``registry`` on ``host:port`` (0: any free port) until the block ends."""
    server: WSGIServer
    thread: threading.Thread
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
