"""A test-only fault hook: the process kills itself (SIGKILL) at a named point.

Exactly-once claims are only proven by crashing at the worst moment: after an order is written
but before the payment provider is called, after the provider answered but before that answer
is recorded. ``GATEWAY_TEST_CRASH_AT`` names one such point; production refuses to start with
it set. SIGKILL, not an exception: nothing runs after it (no ``finally``, no rollback, no
response), as when a machine loses power.
"""

from __future__ import annotations

import os
import signal
from enum import StrEnum


class CrashPoint(StrEnum):
    #: The order, its lines, payment and first event are committed; the provider not called.
    AFTER_ORDER_WRITTEN = "after-order-written"
    #: The provider created the intent; its id is not recorded yet.
    AFTER_INTENT_CREATED = "after-intent-created"
    #: The provider voided or refunded; the cancellation is not recorded yet.
    AFTER_CANCEL_REQUESTED = "after-cancel-requested"


class CrashPoints:
    def __init__(self, armed: CrashPoint | None = None) -> None:
        self.armed = armed

    def reached(self, point: CrashPoint) -> None:
        if point is self.armed:
            os.kill(os.getpid(), signal.SIGKILL)
