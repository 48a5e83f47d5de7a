"""``gateway serve``: uvicorn with a drain phase, JSON access logs and trusted proxies only.

uvicorn closes its listener the moment SIGTERM arrives; behind a load balancer that still sends
traffic for a few seconds, that loses requests. Here the first SIGTERM starts draining
(``/readyz`` answers 503 ``draining``, responses say ``Connection: close``) and the process
keeps serving for ``GATEWAY_SHUTDOWN_DELAY_SECONDS``; then uvicorn stops accepting, lets
in-flight requests finish within ``GATEWAY_SHUTDOWN_GRACE_SECONDS``, closes idle keep-alive
connections and runs the lifespan shutdown. A second SIGTERM, or SIGINT (Ctrl+C), skips what
is left of the delay. With ``--workers N`` uvicorn's supervisor forwards SIGTERM to every
worker, and each drains the same way.

Forwarded headers (``X-Forwarded-For``/``-Proto``) are honoured only from
``GATEWAY_TRUSTED_PROXIES``: uvicorn's default trusts 127.0.0.1, so any local process could pick
the client address that anonymous budgets are keyed on.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from gateway.observability.log import uvicorn_log_config
from gateway.runtime.shutdown import process_shutdown
from gateway.settings import Settings, get_settings

logger = logging.getLogger("manifold.shutdown")

APP = "gateway.asgi:app_from_environment"


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first SIGTERM drains for the pre-stop delay before stopping."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        shutdown = process_shutdown()
        delay = get_settings().shutdown_delay_seconds
        first = not shutdown.draining
        shutdown.begin_draining()
        if sig == signal.SIGTERM and first and delay > 0:
            logger.info("SIGTERM: draining for %.1f s before closing the listener", delay)
            self._stop_at = time.monotonic() + delay
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._stop_at is not None and time.monotonic() >= self._stop_at:
            logger.info("drain delay over: closing the listener, finishing in-flight requests")
            self.should_exit = True
        return await super().on_tick(counter)


class _DrainingProcess(multiprocess.Process):
    """A worker of uvicorn's supervisor that runs a ``DrainingServer``."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


def uvicorn_config(settings: Settings, *, host: str, port: int, workers: int) -> uvicorn.Config:
    trusted = list(settings.trusted_proxies)
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        # The gateway writes its own access line (request id, trace id, caller, operation).
        access_log=False,
        log_config=uvicorn_log_config(settings.resolved_log_format, settings.log_level),
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
        # The WebSocket transport (gateway.subscriptions) on websockets' Sans-I/O core; "auto"
        # would pick its legacy implementation, deprecated upstream.
        ws="websockets-sansio",
        ws_max_size=max(settings.websocket_max_message_bytes, 65_536) * 2,
    )


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    config = uvicorn_config(settings, host=host, port=port, workers=workers)
    if workers > 1:
        # uvicorn's supervisor builds its workers from this module-level class.
        multiprocess.Process = _DrainingProcess  # type: ignore[misc]
        multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = DrainingServer(config)
    # uvicorn re-raises the Ctrl+C it shut down on; the shutdown was clean, so exit 0 as
    # ``uvicorn.run`` does (typer would make it 130, and ``make run`` report an error).
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
