"""Whether this process is draining, and who must hear of it.

A replica told to stop (SIGTERM) first says so on ``/readyz`` and keeps serving for a pre-stop
delay, so load balancers take it out before its listener closes; responses meanwhile carry
``Connection: close`` so keep-alive clients move to another replica instead of racing the
close. The state is per process, not per app: a signal stops the whole process, whatever apps
it serves. Long-lived transports register a drain callback (the WebSocket transport closes its
connections with 1001 "going away"); HTTP needs none, uvicorn finishes in-flight requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache

logger = logging.getLogger("manifold.shutdown")

DrainCallback = Callable[[], None]


class Shutdown:
    """``draining`` flips once and stays; callbacks run once, in the thread that drains."""

    def __init__(self) -> None:
        self.draining = False
        self.since: float | None = None
        self._callbacks: list[DrainCallback] = []

    def on_drain(self, callback: DrainCallback) -> Callable[[], None]:
        """Call ``callback`` when draining starts (at once if it has); returns the unregister.

        Callbacks run on the event loop's thread (the signal handler's) and must not block:
        one that needs to await schedules a task.
        """
        if self.draining:
            callback()
            return lambda: None
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def begin_draining(self) -> None:
        if self.draining:
            return
        self.draining = True
        self.since = time.monotonic()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one broken transport must not keep the others open
                logger.exception("a drain callback failed")

    def reset(self) -> None:
        """Serving again (tests that drain one app and go on)."""
        self.draining = False
        self.since = None


@cache
def process_shutdown() -> Shutdown:
    """The process's one shutdown state, made on first use."""
    return Shutdown()
