"""The idempotency store: who runs a keyed request, what a retry gets, and how a crashed
runner's claim is taken over without letting it write afterwards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from contract.errors import IdempotencyKeyInUseError, IdempotencyKeyReusedError
from datasources.idempotency import (
    Claim,
    ClaimLostError,
    IdempotencyPolicy,
    IdempotencyStore,
    IdempotentRequests,
    Stored,
    fingerprint,
)
from datasources.resilience import Deadline
from datasources.tables import idempotency_keys


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database, clock) -> IdempotencyStore:
    policy = IdempotencyPolicy(ttl_seconds=86_400, lease_seconds=30, wait_seconds=0.05)
    return IdempotencyStore(database, policy, clock=clock)


async def acquire(store: IdempotencyStore, request: str = "a", key: str = "k") -> Claim | Stored:
    return await store.acquire(
        scope="user:s",
        key=key,
        operation="op",
        fingerprint=fingerprint("op", {"r": request}),
        deadline=Deadline(5),
    )


async def test_the_first_request_claims_the_key(store):
    assert isinstance(await acquire(store), Claim)


async def test_a_completed_key_answers_with_what_was_stored(store, database):
    claim = await acquire(store)
    assert isinstance(claim, Claim)
    async with database.transaction() as connection:
        await store.complete(connection, claim, {"answer": 42})

    assert await acquire(store) == Stored({"answer": 42})


async def test_a_key_used_for_another_request_is_refused(store):
    await acquire(store, "a")

    with pytest.raises(IdempotencyKeyReusedError):
        await acquire(store, "b")


async def test_a_running_key_is_busy_for_a_bounded_wait(store):
    await acquire(store)

    with pytest.raises(IdempotencyKeyInUseError) as busy:
        await acquire(store)

    assert busy.value.retry_after_seconds >= 1


async def test_a_retry_waits_at_most_half_its_deadline_to_keep_time_for_a_takeover(database, clock):
    patient = IdempotencyStore(
        database, IdempotencyPolicy(lease_seconds=30, wait_seconds=5), clock=clock
    )
    await acquire(patient)
    deadline = Deadline(1.0)

    with pytest.raises(IdempotencyKeyInUseError):
        await patient.acquire(
            scope="user:s",
            key="k",
            operation="op",
            fingerprint=fingerprint("op", {"r": "a"}),
            deadline=deadline,
        )

    assert deadline.remaining() >= 0.4  # the other half is left to run the request


async def test_a_crashed_runners_key_is_taken_over_with_its_checkpoint(store, database, clock):
    crashed = await acquire(store)
    assert isinstance(crashed, Claim)
    async with database.transaction() as connection:
        await store.checkpoint(connection, crashed, {"order_id": 7})
    clock.advance(31)  # its lease runs out

    successor = await acquire(store)

    assert isinstance(successor, Claim)
    assert successor.record_id == crashed.record_id
    assert successor.recovery == {"order_id": 7}
    # The old runner, had it survived, may no longer write.
    with pytest.raises(ClaimLostError):
        async with database.transaction() as connection:
            await store.complete(connection, crashed, {"late": True})


async def test_settling_a_claim_that_changed_nothing_forgets_the_key(store, database):
    claim = await acquire(store, "a")
    assert isinstance(claim, Claim)

    await store.settle(claim)

    assert isinstance(await acquire(store, "b"), Claim)  # as if never used


async def test_settling_a_claim_that_made_progress_lets_a_retry_resume_at_once(store, database):
    claim = await acquire(store)
    assert isinstance(claim, Claim)
    async with database.transaction() as connection:
        await store.checkpoint(connection, claim, {"step": 1})

    await store.settle(claim)
    resumed = await acquire(store)

    assert isinstance(resumed, Claim)
    assert resumed.recovery == {"step": 1}


async def test_an_expired_key_is_forgotten_and_may_name_a_new_request(store, database, clock):
    claim = await acquire(store, "a")
    assert isinstance(claim, Claim)
    async with database.transaction() as connection:
        await store.complete(connection, claim, {"old": True})
    clock.advance(86_401)

    assert isinstance(await acquire(store, "b"), Claim)


async def test_purging_removes_only_expired_keys(store, database, clock):
    await acquire(store, key="old")
    clock.advance(86_000)
    await acquire(store, key="young")
    clock.advance(500)

    assert await store.purge_expired() == 1
    async with database.connect() as connection:
        left = list((await connection.execute(select(idempotency_keys.c.key))).scalars())
    assert left == ["young"]


async def test_the_fingerprint_ignores_key_order_but_not_values():
    assert fingerprint("op", {"a": 1, "b": [1, 2]}) == fingerprint("op", {"b": [1, 2], "a": 1})
    assert fingerprint("op", {"a": 1}) != fingerprint("op", {"a": 2})
    assert fingerprint("op", {"a": 1}) != fingerprint("other", {"a": 1})


async def test_concurrent_runs_of_one_request_in_a_process_share_the_first(store):
    requests = IdempotentRequests(store)
    runs = 0

    async def execute(claim: Claim | None) -> str:
        nonlocal runs
        assert claim is not None
        runs += 1
        await asyncio.sleep(0.02)
        async with store.database.transaction() as connection:
            await store.complete(connection, claim, {"v": "done"})
        return "done"

    async def decode(stored: dict[str, str]) -> str:
        return stored["v"]

    results = await asyncio.gather(
        *(
            requests.run(
                scope="user:s",
                key="k",
                operation="op",
                request={"r": 1},
                deadline=Deadline(5),
                execute=execute,
                decode=decode,
            )
            for _ in range(10)
        )
    )

    assert runs == 1
    assert {result.value for result in results} == {"done"}
    assert [result.replayed for result in results].count(False) == 1


async def test_without_a_key_every_call_runs_with_no_claim(store):
    requests = IdempotentRequests(store)
    claims: list[Claim | None] = []

    async def execute(claim: Claim | None) -> str:
        claims.append(claim)
        return "ran"

    async def decode(stored: dict[str, str]) -> str:
        raise AssertionError("nothing is stored without a key")

    results = [
        await requests.run(
            scope="user:s",
            key=None,
            operation="op",
            request={"r": 1},
            deadline=Deadline(5),
            execute=execute,
            decode=decode,
        )
        for _ in range(2)
    ]

    assert claims == [None, None]
    assert [(result.value, result.replayed) for result in results] == [("ran", False)] * 2
