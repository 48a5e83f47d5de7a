"""Idempotency keys: a retried request is answered, not executed again.

A key is stored in the database, scoped to the principal that sent it, with a fingerprint of the
request and, once the request has run, what it answered. Its life:

1. **Claim.** ``INSERT … ON CONFLICT DO NOTHING`` decides which request runs; the winner holds a
   lease (``locked_until``) and a token naming it.
2. A request that finds the key **completed** is answered with the stored response; one whose
   fingerprint differs is refused (``IDEMPOTENCY_KEY_REUSED``); one that finds it **in progress**
   waits a bounded time for it, then is refused with ``IDEMPOTENCY_KEY_IN_USE`` and a
   ``Retry-After``.
3. The runner records **checkpoints** (how far it got: "the order is written") in the same
   transactions as its effects, and **completes** the key in the transaction of its last one,
   so there is no moment at which an effect exists that the key does not know about.
4. A runner that **crashed** leaves its lease to expire; the next request with the key takes
   the claim over and resumes from the last checkpoint. Every write of a runner checks its
   token first, so a runner that outlived its lease cannot write over the one that took over.

Inside one process, concurrent requests with the same key and request share one run
(``IdempotentRequests``): a thousand retries cost one claim, not a thousand polls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contract.errors import IdempotencyKeyInUseError, IdempotencyKeyReusedError, UpstreamError
from datasources.db import Database
from datasources.resilience import Deadline
from datasources.tables import idempotency_keys, utc_now
from datasources.writes import connect, insert_or_nothing, transaction

T = TypeVar("T")

logger = logging.getLogger("manifold.idempotency")

IN_PROGRESS = "in_progress"
COMPLETED = "completed"

_REUSED = (
    "This idempotency key was already used for a different request: send a new key with a "
    "new request."
)


@dataclass(frozen=True, slots=True)
class IdempotencyPolicy:
    #: How long a key is remembered after its first use.
    ttl_seconds: float = 86_400.0
    #: How long a running claim holds the key before another request may take it over; longer
    #: than any request may run, so only a crashed runner ever loses it.
    lease_seconds: float = 30.0
    #: How long a request waits for another one running with its key.
    wait_seconds: float = 5.0


@dataclass(slots=True)
class Claim:
    """The right to run a keyed request; ``recovery`` is what an interrupted run recorded."""

    record_id: int
    token: str
    recovery: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Busy:
    lease_left: float


def in_use(retry_after: float) -> IdempotencyKeyInUseError:
    seconds = max(1, math.ceil(retry_after))
    return IdempotencyKeyInUseError(
        f"A request with this idempotency key is still being processed; retry in {seconds} s.",
        retry_after_seconds=seconds,
    )


class ClaimLostError(Exception):
    """Another request took the claim over: this run outlived its lease and must not write."""


def fingerprint(operation: str, request: Mapping[str, Any]) -> str:
    """SHA-256 of the operation and its canonical arguments: the same request, however sent."""
    canonical = json.dumps(
        {"operation": operation, "request": request},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class IdempotencyStore:
    def __init__(
        self,
        database: Database,
        policy: IdempotencyPolicy,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.policy = policy
        self._clock = clock

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.policy.lease_seconds)

    async def acquire(
        self, *, scope: str, key: str, operation: str, fingerprint: str, deadline: Deadline
    ) -> Claim | Stored:
        """The claim to run the request, or its stored answer; waits for a running claim.

        The wait keeps half of what is left of the deadline: a request that takes a crashed
        runner's claim over at the end of its wait must still have the time to run it."""
        wait = min(self.policy.wait_seconds, deadline.remaining() / 2)
        started = time.monotonic()
        pause = 0.02
        while True:
            found = await self._attempt(scope, key, operation, fingerprint)
            if not isinstance(found, _Busy):
                return found
            left = wait - (time.monotonic() - started)
            if left <= 0:
                raise in_use(min(found.lease_left, max(wait, 1.0)))
            # Never past the lease: a crashed runner's claim is taken over as soon as it may be.
            await asyncio.sleep(max(0.001, min(pause, left, found.lease_left)))
            pause = min(pause * 2, 0.25)

    async def _attempt(
        self, scope: str, key: str, operation: str, digest: str
    ) -> Claim | Stored | _Busy:
        while True:
            now = self._clock()
            token = secrets.token_hex(16)
            # A read first: most requests that find a key are retries, answered by this alone.
            row = await self._read(scope, key)
            if row is None:
                inserted = await self._insert(
                    scope, key, operation=operation, digest=digest, token=token, now=now
                )
                if inserted is not None:
                    return Claim(record_id=inserted, token=token)
                row = await self._read(scope, key)  # another request inserted it just now
            if row is None:
                continue  # abandoned or purged since the insert lost: try again
            if row.expires_at <= now:
                await self._forget(row.id, now)
                continue
            if row.operation != operation or row.fingerprint != digest:
                raise IdempotencyKeyReusedError(_REUSED)
            if row.state == COMPLETED:
                return Stored(json.loads(row.response))
            if row.locked_until is not None and row.locked_until > now:
                return _Busy((row.locked_until - now).total_seconds())
            taken = await self._take_over(row.id, token, now)
            if taken is not None:
                return taken

    async def _read(self, scope: str, key: str) -> Any:
        table = idempotency_keys
        async with connect(self.database) as connection:
            return (
                await connection.execute(
                    select(
                        table.c.id,
                        table.c.operation,
                        table.c.fingerprint,
                        table.c.state,
                        table.c.locked_until,
                        table.c.response,
                        table.c.expires_at,
                    ).where(table.c.scope == scope, table.c.key == key)
                )
            ).one_or_none()

    async def _insert(
        self, scope: str, key: str, *, operation: str, digest: str, token: str, now: datetime
    ) -> int | None:
        """The new record's id, or None when the key exists already (a race lost)."""
        table = idempotency_keys
        async with transaction(self.database) as connection:
            inserted: int | None = (
                await connection.execute(
                    insert_or_nothing(table, self.database.dialect, ("scope", "key"))
                    .values(
                        scope=scope,
                        key=key,
                        operation=operation,
                        fingerprint=digest,
                        state=IN_PROGRESS,
                        owner=token,
                        locked_until=self._lease(now),
                        created_at=now,
                        expires_at=now + timedelta(seconds=self.policy.ttl_seconds),
                    )
                    .returning(table.c.id)
                )
            ).scalar_one_or_none()
        return inserted

    async def _take_over(self, record_id: int, token: str, now: datetime) -> Claim | None:
        """The claim of a runner whose lease ran out; None if another request was quicker."""
        table = idempotency_keys
        async with transaction(self.database) as connection:
            row = (
                await connection.execute(
                    update(table)
                    .where(
                        table.c.id == record_id,
                        table.c.state == IN_PROGRESS,
                        or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
                    )
                    .values(owner=token, locked_until=self._lease(now))
                    .returning(table.c.recovery)
                )
            ).one_or_none()
        if row is None:
            return None
        recovery = None if row.recovery is None else json.loads(row.recovery)
        return Claim(record_id=record_id, token=token, recovery=recovery)

    async def _forget(self, record_id: int, now: datetime) -> None:
        async with transaction(self.database) as connection:
            await connection.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.id == record_id, idempotency_keys.c.expires_at <= now
                )
            )

    async def _owned_update(self, connection: AsyncConnection, claim: Claim, **values: Any) -> None:
        table = idempotency_keys
        updated = (
            await connection.execute(
                update(table)
                .where(
                    table.c.id == claim.record_id,
                    table.c.owner == claim.token,
                    table.c.state == IN_PROGRESS,
                )
                .values(**values)
                .returning(table.c.id)
            )
        ).scalar_one_or_none()
        if updated is None:
            raise ClaimLostError("another request took over this idempotency key")

    async def checkpoint(
        self, connection: AsyncConnection, claim: Claim, recovery: dict[str, Any]
    ) -> None:
        """Record progress inside the caller's transaction (which fails if the claim is lost),
        and renew the lease."""
        await self._owned_update(
            connection,
            claim,
            recovery=json.dumps(recovery),
            locked_until=self._lease(self._clock()),
        )
        claim.recovery = recovery

    async def complete(
        self, connection: AsyncConnection, claim: Claim, response: dict[str, Any]
    ) -> None:
        """Store the answer inside the transaction of the run's last effect."""
        await self._owned_update(
            connection,
            claim,
            state=COMPLETED,
            response=json.dumps(response),
            owner=None,
            locked_until=None,
            recovery=None,
        )

    async def settle(self, claim: Claim) -> None:
        """After a failed run: forget a claim that changed nothing (the retry starts afresh),
        or end the lease of one that did, so a retry resumes at once instead of waiting."""
        table = idempotency_keys
        owned = (
            table.c.id == claim.record_id,
            table.c.owner == claim.token,
            table.c.state == IN_PROGRESS,
        )
        async with transaction(self.database) as connection:
            if claim.recovery is None:
                await connection.execute(delete(table).where(*owned))
            else:
                await connection.execute(
                    update(table).where(*owned).values(locked_until=self._clock())
                )

    async def purge_expired(self, *, limit: int = 1000) -> int:
        """Forget keys past their time; returns how many."""
        table = idempotency_keys
        now = self._clock()
        expired = select(table.c.id).where(table.c.expires_at <= now).limit(limit)
        async with transaction(self.database) as connection:
            ids = list((await connection.execute(expired)).scalars())
            if ids:
                await connection.execute(delete(table).where(table.c.id.in_(ids)))
        return len(ids)


@dataclass(frozen=True, slots=True)
class Idempotent(Generic[T]):
    value: T
    #: Answered without running: a stored response, or another request's run just now.
    replayed: bool


class IdempotentRequests:
    """Runs keyed requests through the store; in-process duplicates share one run."""

    def __init__(self, store: IdempotencyStore) -> None:
        self.store = store
        self._flights: dict[tuple[str, str, str], asyncio.Future[Any]] = {}

    async def run(
        self,
        *,
        scope: str,
        key: str | None,
        operation: str,
        request: Mapping[str, Any],
        deadline: Deadline,
        execute: Callable[[Claim | None], Awaitable[T]],
        decode: Callable[[dict[str, Any]], Awaitable[T]],
    ) -> Idempotent[T]:
        """``execute`` runs the request under its claim and must ``complete`` it; ``decode``
        turns a stored response back into the value. Without a key there is nothing to
        remember: ``execute`` runs with no claim, every call a new request."""
        if key is None:
            return Idempotent(await execute(None), replayed=False)
        digest = fingerprint(operation, request)
        flight = (scope, key, digest)
        running = self._flights.get(flight)
        if running is not None:
            return Idempotent(await self._join(running, deadline), replayed=True)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._flights[flight] = future
        try:
            result = await self._lead(
                scope=scope,
                key=key,
                operation=operation,
                digest=digest,
                deadline=deadline,
                execute=execute,
                decode=decode,
            )
        except BaseException as error:
            future.set_exception(
                error
                if isinstance(error, Exception)
                else UpstreamError("the request was abandoned; retry it with the same key")
            )
            raise
        else:
            future.set_result(result.value)
            return result
        finally:
            if self._flights.get(flight) is future:
                del self._flights[flight]

    async def _join(self, running: asyncio.Future[Any], deadline: Deadline) -> Any:
        wait = max(0.0, min(self.store.policy.wait_seconds, deadline.remaining()))
        try:
            async with asyncio.timeout(wait):
                return await asyncio.shield(running)
        except TimeoutError:
            raise in_use(wait) from None

    async def _lead(
        self,
        *,
        scope: str,
        key: str,
        operation: str,
        digest: str,
        deadline: Deadline,
        execute: Callable[[Claim | None], Awaitable[T]],
        decode: Callable[[dict[str, Any]], Awaitable[T]],
    ) -> Idempotent[T]:
        while True:
            claimed = await self.store.acquire(
                scope=scope, key=key, operation=operation, fingerprint=digest, deadline=deadline
            )
            if isinstance(claimed, Stored):
                return Idempotent(await decode(claimed.response), replayed=True)
            try:
                return Idempotent(await execute(claimed), replayed=False)
            except ClaimLostError:
                continue  # another request runs it now: wait for its answer like any retry
            except BaseException:
                # Shielded: a cancelled request must still let its retry in at once.
                try:
                    await asyncio.shield(self.store.settle(claimed))
                except Exception:  # the lease runs out by itself: the retry resumes then
                    logger.warning("could not settle an idempotency key after a failed run")
                raise
