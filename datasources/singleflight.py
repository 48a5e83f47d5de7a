"""Single-flight for keyed batch loads: concurrent requests for one key share one fetch.

A dataloader folds one request's keys together; this folds *concurrent requests* together, so a
burst of misses for a hot key (a popular product after its cache entry expired) makes one
upstream call per process instead of one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from contract.errors import UpstreamError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen even when no other request was waiting for it."""
    if not future.cancelled():
        future.exception()


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V | None]] = {}

    async def load_many(
        self,
        keys: Sequence[K],
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
        *,
        wait_seconds: float,
    ) -> dict[K, V]:
        """Values for ``keys`` (absent when missing), fetching only keys nobody is fetching.

        ``wait_seconds`` bounds the wait for other requests' flights, so a caller with a shorter
        deadline is never held past it by a slower caller's fetch.
        """
        joined = {key: self._flights[key] for key in keys if key in self._flights}
        mine = [key for key in dict.fromkeys(keys) if key not in joined]
        results = await self._fly(mine, fetch) if mine else {}
        if joined:
            async with asyncio.timeout(wait_seconds):
                values = await asyncio.gather(*(asyncio.shield(f) for f in joined.values()))
            results.update(zip(joined, values, strict=True))
        return {key: value for key, value in results.items() if value is not None}

    async def _fly(
        self, keys: list[K], fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]]
    ) -> dict[K, V | None]:
        """Fetch ``keys`` while letting concurrent callers join; they see our result or error."""
        loop = asyncio.get_running_loop()
        owned: dict[K, asyncio.Future[V | None]] = {}
        for key in keys:
            future: asyncio.Future[V | None] = loop.create_future()
            future.add_done_callback(_retrieve)
            owned[key] = future
            self._flights[key] = future
        try:
            fetched = await fetch(keys)
            results = {key: fetched.get(key) for key in keys}
            for key, future in owned.items():
                future.set_result(results[key])
            return results
        except BaseException as error:
            # A cancelled owner (its client went away) must not cancel the requests that joined.
            failure = (
                error
                if isinstance(error, Exception)
                else UpstreamError("the upstream call was abandoned; retry the request")
            )
            for future in owned.values():
                if not future.done():
                    future.set_exception(failure)
            raise
        finally:
            for key, future in owned.items():
                if self._flights.get(key) is future:
                    del self._flights[key]
