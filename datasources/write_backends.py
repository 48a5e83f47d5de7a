"""What the write use cases need besides the loaders: opened in the lifespan, shared by requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from datasources.content import ContentSource
from datasources.crashpoints import CrashPoints
from datasources.db import Database
from datasources.idempotency import IdempotentRequests
from datasources.payment_provider import PaymentProvider


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class WriteBackends:
    database: Database
    content: ContentSource
    payments: PaymentProvider
    idempotency: IdempotentRequests
    #: Called after a commit that wrote outbox events: the publisher sends them at once.
    events_written: Callable[[], None] = _nothing
    crash: CrashPoints = field(default_factory=CrashPoints)
    #: How long a payment left before the provider's answer waits before the sweep resumes it.
    stalled_after_seconds: float = 60.0
