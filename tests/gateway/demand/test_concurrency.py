"""The overload valve, without services: a bounded number run, a bounded FIFO queue waits,
the rest are refused at once; the adaptive limit shrinks on slow answers and grows back."""

from __future__ import annotations

import asyncio

from gateway.demand.concurrency import AdaptiveLimit, ConcurrencyLimiter


async def test_slots_are_taken_up_to_the_limit_then_refused_without_a_queue():
    limiter = ConcurrencyLimiter(limit=2, max_queue=0)

    assert limiter.try_acquire()
    assert limiter.try_acquire()
    assert not limiter.try_acquire()
    assert not await limiter.acquire(1.0)


async def test_a_released_slot_goes_to_the_first_waiter_in_arrival_order():
    limiter = ConcurrencyLimiter(limit=1, max_queue=5)
    assert limiter.try_acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        assert await limiter.acquire(2.0)
        order.append(n)
        limiter.release()

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    limiter.release()
    await asyncio.gather(*waiters)

    assert order == [0, 1, 2]
    assert limiter.in_flight == 0


async def test_a_full_queue_refuses_at_once():
    limiter = ConcurrencyLimiter(limit=1, max_queue=1)
    limiter.try_acquire()
    queued = asyncio.create_task(limiter.acquire(5.0))
    await asyncio.sleep(0)

    refused = await asyncio.wait_for(limiter.acquire(5.0), 0.1)

    assert refused is False
    limiter.release()
    assert await queued


async def test_a_waiter_that_times_out_leaves_the_queue():
    limiter = ConcurrencyLimiter(limit=1, max_queue=1)
    limiter.try_acquire()

    assert not await limiter.acquire(0.01)
    assert limiter.queued == 0


async def test_a_cancelled_waiter_passes_on_a_slot_granted_to_it():
    limiter = ConcurrencyLimiter(limit=1, max_queue=2)
    limiter.try_acquire()
    first = asyncio.create_task(limiter.acquire(5.0))
    second = asyncio.create_task(limiter.acquire(5.0))
    await asyncio.sleep(0)
    limiter.release()  # granted to the first …
    first.cancel()  # … which is cancelled before it runs
    await asyncio.sleep(0)

    assert await second
    assert limiter.in_flight == 1


def test_the_adaptive_limit_shrinks_when_latency_doubles_and_grows_back_when_fast():
    limit = AdaptiveLimit(maximum=64)
    for _ in range(20):
        limit.observe(0.010, in_flight=64)
    for _ in range(20):
        limit.observe(0.050, in_flight=64)
    shrunk = limit.current()
    for _ in range(2000):
        limit.observe(0.010, in_flight=limit.current())

    assert shrunk < 16
    assert limit.current() > shrunk
    assert limit.current() <= 64
