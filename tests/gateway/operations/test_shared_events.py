"""One execution per subscription key and event, shared by the subscriptions that would
compute the same answer (``gateway.operations.shared_events``). Pure: asyncio only."""

from __future__ import annotations

import asyncio

import pytest
from graphql import ExecutionResult

from gateway.operations.shared_events import SharedEventExecutions


def by(result: ExecutionResult) -> str:
    assert result.data is not None
    return str(result.data["by"])


def executing(calls: list[str], name: str, *, started: asyncio.Event | None = None):
    async def execute() -> ExecutionResult:
        calls.append(name)
        if started is not None:
            started.set()
        await asyncio.sleep(0.01)
        return ExecutionResult({"by": name}, None)

    return execute


async def test_subscribers_of_one_key_and_event_share_one_execution():
    shared, calls = SharedEventExecutions(), list[str]()

    results = await asyncio.gather(
        *(shared.run(("doc", "evt-1"), executing(calls, f"s{n}")) for n in range(50))
    )

    assert calls == ["s0"]
    assert {by(result) for result in results} == {"s0"}


async def test_different_keys_execute_each():
    shared, calls = SharedEventExecutions(), list[str]()

    await asyncio.gather(
        shared.run(("alice", "evt-1"), executing(calls, "alice")),
        shared.run(("bob", "evt-1"), executing(calls, "bob")),
        shared.run(("alice", "evt-2"), executing(calls, "alice-2")),
    )

    assert sorted(calls) == ["alice", "alice-2", "bob"]


async def test_without_a_key_nothing_is_shared():
    shared, calls = SharedEventExecutions(), list[str]()

    await asyncio.gather(
        shared.run(None, executing(calls, "a")), shared.run(None, executing(calls, "b"))
    )

    assert sorted(calls) == ["a", "b"]


async def test_an_abandoned_execution_is_made_again_by_the_next_subscriber():
    shared, calls, started = SharedEventExecutions(), list[str](), asyncio.Event()
    first = asyncio.create_task(shared.run(("k", 1), executing(calls, "first", started=started)))
    await started.wait()
    second = asyncio.create_task(shared.run(("k", 1), executing(calls, "second")))
    await asyncio.sleep(0)

    first.cancel()
    result = await second

    assert result.data == {"by": "second"}
    assert calls == ["first", "second"]
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_execution_fails_its_waiters_and_is_tried_afresh_later():
    shared = SharedEventExecutions()

    async def failing() -> ExecutionResult:
        await asyncio.sleep(0.01)
        raise RuntimeError("database gone")

    outcomes = await asyncio.gather(
        shared.run(("k", 1), failing), shared.run(("k", 1), failing), return_exceptions=True
    )
    later = await shared.run(("k", 1), executing([], "later"))

    assert [type(outcome) for outcome in outcomes] == [RuntimeError, RuntimeError]
    assert later.data == {"by": "later"}


async def test_the_number_of_executions_kept_is_bounded():
    shared = SharedEventExecutions(size=3)

    for event in range(10):
        await shared.run(("k", event), executing([], "x"))

    assert len(shared._results) == 3
