"""One execution of an event per subscription document, variables and caller, shared.

Every subscriber's event is executed as a response, so that ``order`` is read with the
subscriber's own rights. A support dashboard open in twenty tabs, or a staff token watching
every order from several screens, would otherwise execute the same document, with the same
variables, for the same caller, on the same event, once per subscription: at 1,000 such
subscribers one process spent 350-400 µs of CPU per delivered event, and delivery starved the
requests it shares the loop with.

The key holds everything an answer can depend on besides the data: the document's text, the
operation name, the variables and the whole principal (kind, subject, scopes, budget), and the
event's id. Two subscriptions that agree on all of it would compute the same answer, so the
second waits for the first's. Subscriptions of different callers never share: sharing across
callers would make an authorization rule out of a cache key.

Each subscriber still makes its own answer from the shared result (its request id on errors,
its own cost report), and an execution that its subscriber abandons is recomputed by the next
one waiting instead of failing them all.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from graphql import ExecutionResult

__all__ = ["SharedEventExecutions"]

#: Executions kept for late subscribers of the same event; a burst's events are all in flight
#: within far fewer.
DEFAULT_SIZE = 1024


class SharedEventExecutions:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._results: OrderedDict[Hashable, asyncio.Future[ExecutionResult]] = OrderedDict()
        #: Executions run (not shared): what tests and metrics read.
        self.executed = 0

    async def run(
        self, key: Hashable | None, execute: Callable[[], Awaitable[ExecutionResult]]
    ) -> ExecutionResult:
        """``execute()``'s result, or the result of the same key's execution already made."""
        if key is None:
            self.executed += 1
            return await execute()
        while True:
            shared = self._results.get(key)
            if shared is None:
                return await self._execute(key, execute)
            try:
                return await asyncio.shield(shared)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if shared.cancelled() and (current is None or not current.cancelling()):
                    continue  # its subscriber went away mid-execution: compute it ourselves
                raise

    async def _execute(
        self, key: Hashable, execute: Callable[[], Awaitable[ExecutionResult]]
    ) -> ExecutionResult:
        future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        self._results[key] = future
        if len(self._results) > self._size:
            self._results.popitem(last=False)
        self.executed += 1
        try:
            result = await execute()
        except asyncio.CancelledError:
            if self._results.get(key) is future:
                del self._results[key]
            future.cancel()
            raise
        except Exception as error:
            if self._results.get(key) is future:
                del self._results[key]  # the next event's subscribers try afresh
            future.set_exception(error)
            future.exception()  # retrieved: the waiters get it, nobody else need
            raise
        future.set_result(result)
        return result
