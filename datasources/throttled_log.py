"""A warning said at most once a minute: during an outage every request fails the same way,
and one line a minute tells the operator as much as thousands would."""

from __future__ import annotations

import logging
import math
import time

#: The least time between two warnings of one kind.
WARNING_INTERVAL_SECONDS = 60.0


class ThrottledWarning:
    def __init__(
        self, logger: logging.Logger, *, seconds: float = WARNING_INTERVAL_SECONDS
    ) -> None:
        self._logger = logger
        self._seconds = seconds
        self._last = -math.inf

    def __call__(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last >= self._seconds:
            self._last = now
            self._logger.warning(message, *args)
