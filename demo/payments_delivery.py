"""Webhook delivery of the demo provider: at least once, signed, retried, and faulty on demand.

Every event is POSTed to the configured endpoint with a ``Payment-Signature`` header
(``contract.webhook_signature``), one ``v1`` per secret during a rotation. An attempt succeeds
on a 2xx; anything else (an error status, a refused connection, a timeout) is retried with
exponential back-off until ``max_attempts``, then abandoned. Each attempt is signed anew, with a
timestamp later than any earlier attempt of the same event, so no two attempts share a signature
and a receiver may refuse a signature it has seen before.

Injected faults (``DeliveryFaults``, ``PUT /_delivery``), which a receiver must survive:

* ``duplicates``: each event is delivered that many extra times;
* ``out_of_order``: waiting deliveries are sent in random order, not the order of their events;
* ``delay_ms``: each event waits this long (plus, out of order, a random part of it) first;
* ``failure_rate``: that fraction of attempts is treated as failed *after* the receiver
  answered, as if its answer were lost: the receiver processed it and gets it again.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import httpx

from contract.webhook_signature import SIGNATURE_HEADER, signature_header

__all__ = ["DeliveryFaults", "Endpoint", "Webhooks"]

CONCURRENCY = 4
ATTEMPT_TIMEOUT_SECONDS = 5.0
MAX_BACKOFF_MS = 5_000


@dataclass(frozen=True, slots=True)
class DeliveryFaults:
    duplicates: int = 0
    out_of_order: bool = False
    delay_ms: int = 0
    failure_rate: float = 0.0
    max_attempts: int = 10
    retry_base_ms: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.duplicates <= 10:
            raise ValueError("duplicates must be 0 to 10")
        if self.delay_ms < 0 or self.retry_base_ms < 0:
            raise ValueError("delays must not be negative")
        if not 0.0 <= self.failure_rate < 1.0:
            raise ValueError("failure_rate must be at least 0 and below 1")
        if not 1 <= self.max_attempts <= 50:
            raise ValueError("max_attempts must be 1 to 50")

    @classmethod
    def from_json(cls, data: object) -> DeliveryFaults:
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        known = {item.name: item.type for item in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown delivery settings: {', '.join(unknown)}")
        for name, value in data.items():
            wanted = bool if name == "out_of_order" else float if name == "failure_rate" else int
            if isinstance(value, bool) != (wanted is bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} has the wrong type")
            if wanted is int and not isinstance(value, int):
                raise ValueError(f"{name} must be an integer")
        return cls(**data)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str | None = None
    secrets: tuple[str, ...] = ()


@dataclass(slots=True)
class _Delivery:
    event_id: str
    body: bytes
    due: float
    attempt: int = 0
    sequence: int = 0


@dataclass(slots=True)
class _Counters:
    delivered: int = 0
    attempts: int = 0
    failed_attempts: int = 0
    abandoned: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class Webhooks:
    """The delivery queue; ``run`` is the provider's background task."""

    def __init__(self, endpoint: Endpoint, faults: DeliveryFaults, *, seed: int = 0) -> None:
        self.endpoint = endpoint
        self.faults = faults
        self._random = random.Random(seed)  # noqa: S311 (fault sampling, not security)
        self._waiting: list[_Delivery] = []
        self._sending = 0
        self._sequence = 0
        self._last_signed: dict[str, int] = {}
        self._wake = asyncio.Event()
        self.counters = _Counters()

    @property
    def pending(self) -> int:
        return len(self._waiting) + self._sending

    def stats(self) -> dict[str, Any]:
        counters = self.counters
        return {
            "pending": self.pending,
            "delivered": counters.delivered,
            "attempts": counters.attempts,
            "failedAttempts": counters.failed_attempts,
            "abandoned": counters.abandoned,
            "byStatus": dict(counters.by_status),
        }

    def enqueue(self, event_id: str, body: bytes) -> None:
        if self.endpoint.url is None:
            return  # nowhere to deliver: the event stays in GET /v1/events
        faults = self.faults
        for _ in range(1 + faults.duplicates):
            delay = faults.delay_ms / 1000
            if faults.out_of_order:
                delay += self._random.uniform(0, max(delay, 0.05))
            self._sequence += 1
            self._waiting.append(
                _Delivery(event_id, body, time.monotonic() + delay, sequence=self._sequence)
            )
        self._wake.set()

    def _next_due(self, now: float) -> _Delivery | None:
        due = [delivery for delivery in self._waiting if delivery.due <= now]
        if not due:
            return None
        chosen = (
            self._random.choice(due)
            if self.faults.out_of_order
            else min(due, key=lambda delivery: (delivery.due, delivery.sequence))
        )
        self._waiting.remove(chosen)
        return chosen

    async def run(self) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_SECONDS) as client:
            while True:
                await gate.acquire()
                delivery = self._next_due(time.monotonic())
                if delivery is None:
                    gate.release()
                    await self._sleep()
                    continue
                self._sending += 1
                task = asyncio.create_task(self._attempt(client, delivery, gate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _sleep(self) -> None:
        now = time.monotonic()
        soonest = min((delivery.due for delivery in self._waiting), default=now + 1.0)
        self._wake.clear()
        try:
            async with asyncio.timeout(max(0.001, soonest - now)):
                await self._wake.wait()
        except TimeoutError:
            pass

    def _signed(self, delivery: _Delivery) -> str:
        # Strictly later than any earlier attempt of this event: no signature is ever reused.
        timestamp = max(int(time.time()), self._last_signed.get(delivery.event_id, 0) + 1)
        self._last_signed[delivery.event_id] = timestamp
        return signature_header(delivery.body, self.endpoint.secrets, timestamp)

    async def _attempt(
        self, client: httpx.AsyncClient, delivery: _Delivery, gate: asyncio.Semaphore
    ) -> None:
        counters = self.counters
        counters.attempts += 1
        delivered = False
        try:
            url = self.endpoint.url
            if url is not None:
                response = await client.post(
                    url,
                    content=delivery.body,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: self._signed(delivery),
                    },
                )
                status = str(response.status_code)
                counters.by_status[status] = counters.by_status.get(status, 0) + 1
                lost = self._random.random() < self.faults.failure_rate
                delivered = response.is_success and not lost
        except httpx.HTTPError:
            counters.by_status["error"] = counters.by_status.get("error", 0) + 1
        finally:
            self._sending -= 1
            gate.release()
        if delivered:
            counters.delivered += 1
            return
        counters.failed_attempts += 1
        self._retry(delivery)

    def _retry(self, delivery: _Delivery) -> None:
        delivery.attempt += 1
        if delivery.attempt >= self.faults.max_attempts:
            self.counters.abandoned += 1
            return
        backoff = min(self.faults.retry_base_ms * 2 ** (delivery.attempt - 1), MAX_BACKOFF_MS)
        jitter = self._random.uniform(0, backoff / 2)
        delivery.due = time.monotonic() + (backoff + jitter) / 1000
        self._waiting.append(delivery)
        self._wake.set()
