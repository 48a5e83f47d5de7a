"""The per-request dataloaders: the only way resolvers reach a backend.

Built fresh for each request (inside its running loop) so the per-key cache never leaks data
between callers; every loader is made here, so changing how a backend is batched or cached
touches this one file.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy.exc import DBAPIError

from contract.errors import UpstreamError, UpstreamTimeoutError
from datasources import orders as order_queries
from datasources import users as user_queries
from datasources.content import ContentPageKey, ContentRecord, ContentSource
from datasources.db import DATABASE_FAILURES, Database, is_outage, is_timeout
from datasources.instrumentation import DatasourceMetrics
from datasources.orders import OrderLineRecord, OrderPageKey, OrderRecord
from datasources.pagination import Page
from datasources.payments import PaymentRecord, payments_by_order_ids
from datasources.recommendations import (
    RecommendationKey,
    RecommendationRecord,
    RecommendationsSource,
)
from datasources.resilience import Deadline
from datasources.tracing import span
from datasources.upstream import Upstream
from datasources.users import UserRecord

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Keys per SQL statement; bounded so one huge request cannot build an unbounded array.
MAX_BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class UserPageKey:
    first: int
    after_id: int | None = None


class Loaders:
    """One request's dataloaders, each made the first time a resolver asks for it.

    A query touches two or three of them; building all of them for every request would cost
    more than a small query's own work. ``Loaders(name=loader, …)`` takes ready-made ones
    (tests); ``build_loaders`` makes them lazily.
    """

    user_by_id: DataLoader[int, UserRecord | None]
    user_by_subject: DataLoader[str, UserRecord | None]
    users_page: DataLoader[UserPageKey, Page[UserRecord]]
    order_by_id: DataLoader[int, OrderRecord | None]
    order_page: DataLoader[OrderPageKey, Page[OrderRecord]]
    lines_by_order: DataLoader[int, list[OrderLineRecord]]
    payment_by_order: DataLoader[int, PaymentRecord | None]
    content_by_id: DataLoader[int, ContentRecord | None]
    content_by_slug: DataLoader[str, ContentRecord | None]
    content_page: DataLoader[ContentPageKey, Page[ContentRecord]]
    recommendations: DataLoader[RecommendationKey, list[RecommendationRecord]]

    def __init__(self, **loaders: DataLoader[Any, Any]) -> None:
        unknown = set(loaders) - set(self.names())
        if unknown:
            raise TypeError(f"unknown loaders: {sorted(unknown)}")
        self._factories: Mapping[str, Callable[[], DataLoader[Any, Any]]] = {}
        for name, loader in loaders.items():
            setattr(self, name, loader)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(name for name in cls.__annotations__ if not name.startswith("_"))

    @classmethod
    def lazy(cls, factories: Mapping[str, Callable[[], DataLoader[Any, Any]]]) -> Loaders:
        loaders = cls()
        loaders._factories = factories
        return loaders

    def __getattr__(self, name: str) -> Any:
        """Called only for a loader not made yet: make it, keep it for the request."""
        factory = self.__dict__.get("_factories", {}).get(name)
        if factory is None:
            raise AttributeError(name)
        loader = factory()
        setattr(self, name, loader)
        return loader


@dataclass(frozen=True, slots=True)
class Backends:
    """What every request of one app reads from; opened in the lifespan, shared by requests."""

    database: Database
    content: ContentSource
    recommendations: RecommendationsSource
    metrics: DatasourceMetrics

    def upstreams(self) -> tuple[Upstream, ...]:
        return (self.content.upstream, self.recommendations.upstream)


def _loader(
    name: str,
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
    missing: Callable[[], V],
    *,
    metrics: DatasourceMetrics,
    deadline: Deadline,
    on_database_failure: Callable[[BaseException], None],
) -> DataLoader[K, V]:
    """A loader that maps a batch result back onto its keys, in key order.

    Every batch runs within what is left of the request's deadline: past it, the fields that
    needed this batch fail with ``UPSTREAM_TIMEOUT`` and everything already resolved is served.
    """

    async def batch(keys: list[K]) -> list[V]:
        metrics.record_batch(name, len(keys))
        try:
            with span(f"dataloader {name}", attributes={"dataloader.batch_size": len(keys)}):
                async with asyncio.timeout(deadline.remaining()):
                    try:
                        found = await fetch(keys)
                    except DBAPIError as error:
                        if not error.connection_invalidated:
                            raise
                        # A pooled connection the server had dropped (there is no pre-ping):
                        # the pool is invalidated now, so one retry of this read gets a fresh
                        # one.
                        found = await fetch(keys)
        except TimeoutError:
            raise UpstreamTimeoutError("the request's deadline passed") from None
        except DATABASE_FAILURES as error:
            if not is_outage(error):
                raise
            on_database_failure(error)
            if is_timeout(error):
                raise UpstreamTimeoutError("the database did not answer in time") from None
            raise UpstreamError("the database is unavailable") from None
        return [found[key] if key in found else missing() for key in keys]

    return DataLoader(batch, max_batch_size=MAX_BATCH_SIZE, loop=asyncio.get_running_loop())


def _no_content() -> ContentRecord | UpstreamError | None:
    """An id the content service does not know; an ``UpstreamError`` value fails that key."""
    return None


def build_loaders(backends: Backends, *, deadline: Deadline, request_id: str = "") -> Loaders:
    database, metrics = backends.database, backends.metrics

    async def users_pages(keys: list[UserPageKey]) -> dict[UserPageKey, Page[UserRecord]]:
        pages = await asyncio.gather(
            *(
                user_queries.users_page(database, first=key.first, after_id=key.after_id)
                for key in keys
            )
        )
        return dict(zip(keys, pages, strict=True))

    async def order_pages(keys: list[OrderPageKey]) -> dict[OrderPageKey, Page[OrderRecord]]:
        """One statement per distinct (first, after, status), covering every customer in it."""
        groups: dict[tuple[object, ...], list[OrderPageKey]] = defaultdict(list)
        for key in keys:
            groups[(key.user_id is None, key.first, key.after, key.status)].append(key)

        async def run(group: list[OrderPageKey]) -> dict[OrderPageKey, Page[OrderRecord]]:
            sample = group[0]
            if sample.user_id is None:
                page = await order_queries.all_orders_page(
                    database, first=sample.first, after=sample.after, status=sample.status
                )
                return dict.fromkeys(group, page)
            pages = await order_queries.order_pages(
                database,
                user_ids=[key.user_id for key in group if key.user_id is not None],
                first=sample.first,
                after=sample.after,
                status=sample.status,
            )
            return {key: pages[key.user_id] for key in group if key.user_id is not None}

        results: dict[OrderPageKey, Page[OrderRecord]] = {}
        for part in await asyncio.gather(*(run(group) for group in groups.values())):
            results.update(part)
        return results

    content, recommendations = backends.content, backends.recommendations
    loader = partial(
        _loader,
        metrics=metrics,
        deadline=deadline,
        on_database_failure=database.report_unavailable,
    )

    async def content_by_ids(ids: list[int]) -> Mapping[int, ContentRecord | UpstreamError]:
        return await content.by_ids(ids, deadline=deadline, request_id=request_id)

    async def content_pages(
        keys: list[ContentPageKey],
    ) -> dict[ContentPageKey, Page[ContentRecord]]:
        pages = await asyncio.gather(
            *(content.page(key, deadline=deadline, request_id=request_id) for key in keys)
        )
        return dict(zip(keys, pages, strict=True))

    return Loaders.lazy(
        {
            "user_by_id": lambda: loader(
                "user_by_id",
                lambda ids: user_queries.users_by_ids(database, ids),
                lambda: None,
            ),
            "user_by_subject": lambda: loader(
                "user_by_subject",
                lambda subjects: user_queries.users_by_subjects(database, subjects),
                lambda: None,
            ),
            "users_page": lambda: loader("users_page", users_pages, Page.empty),
            "order_by_id": lambda: loader(
                "order_by_id",
                lambda ids: order_queries.orders_by_ids(database, ids),
                lambda: None,
            ),
            "order_page": lambda: loader("order_page", order_pages, Page.empty),
            "lines_by_order": lambda: loader(
                "lines_by_order",
                lambda ids: order_queries.lines_by_order_ids(database, ids),
                list,
            ),
            "payment_by_order": lambda: loader(
                "payment_by_order",
                lambda ids: payments_by_order_ids(database, ids),
                lambda: None,
            ),
            # An ``UpstreamError`` value fails its key alone: ``load`` raises it, never returns it.
            "content_by_id": lambda: cast(
                "DataLoader[int, ContentRecord | None]",
                loader("content_by_id", content_by_ids, _no_content),
            ),
            "content_by_slug": lambda: loader(
                "content_by_slug",
                lambda slugs: content.by_slugs(slugs, deadline=deadline, request_id=request_id),
                lambda: None,
            ),
            "content_page": lambda: loader("content_page", content_pages, Page.empty),
            "recommendations": lambda: loader(
                "recommendations",
                lambda keys: recommendations.for_users(
                    keys, deadline=deadline, request_id=request_id
                ),
                list,
            ),
        }
    )
