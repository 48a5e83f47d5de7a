"""In-memory stand-ins for the per-request loaders and the API key service.

``FakeLoaders`` builds a real ``Loaders``: every field is an ``aiodataloader.DataLoader`` whose
batch function reads the dicts of a ``Catalog``, and which remembers every key it was asked for
(``asked``) and every batch it dispatched (``batches``), so a test can say "a refused caller
caused no load at all". Build it inside a running event loop (an async test or fixture).

The default catalog: two customers with orders (Alice, Bob), a staff member (Carol), published
content and one draft, and recommendations for Alice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.api_keys import ApiKeys, CreatedApiKey
from auth.principal import Principal, PrincipalKind
from datasources.api_keys import API_KEY_CURSOR, ApiKeyRecord
from datasources.content import CONTENT_CURSOR, ContentKind, ContentPageKey, ContentRecord
from datasources.loaders import Loaders, UserPageKey
from datasources.orders import OrderLineRecord, OrderPageKey, OrderRecord, order_cursor
from datasources.pagination import Page, encode_cursor
from datasources.payments import PaymentRecord
from datasources.recommendations import RecommendationKey, RecommendationRecord
from datasources.tables import OrderStatus
from datasources.users import USER_CURSOR, UserRecord

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class RecordingLoader(DataLoader[K, V]):
    """A real DataLoader answering from ``lookup``; records the keys asked and batched."""

    def __init__(self, lookup: Callable[[K], V]) -> None:
        self.asked: list[K] = []
        self.batches: list[list[K]] = []

        async def batch(keys: list[K]) -> list[V]:
            self.batches.append(list(keys))
            return [lookup(key) for key in keys]

        super().__init__(batch, loop=asyncio.get_running_loop())

    def load(self, key: K) -> asyncio.Future[V]:
        self.asked.append(key)
        return super().load(key)


# --- the default catalog ---------------------------------------------------------------------


def user_record(user_id: int, name: str) -> UserRecord:
    return UserRecord(
        id=user_id,
        subject=f"subject-{name.lower()}",
        name=name,
        email=f"{name.lower()}@example.test",
        created_at=EPOCH,
    )


def order_record(
    order_id: int, user_id: int, *, days: int, status: OrderStatus = OrderStatus.PAID
) -> OrderRecord:
    return OrderRecord(
        id=order_id,
        number=f"ORD-{order_id}",
        user_id=user_id,
        status=status,
        currency="EUR",
        total=Decimal("10.00"),
        placed_at=EPOCH + timedelta(days=days),
    )


def line_record(line_id: int, order_id: int, *, quantity: int, unit_price: str) -> OrderLineRecord:
    return OrderLineRecord(
        id=line_id,
        order_id=order_id,
        content_id=1,
        quantity=quantity,
        unit_price=Decimal(unit_price),
        currency="EUR",
    )


def content_record(
    content_id: int,
    slug: str,
    *,
    published: bool = True,
    author_id: int | None = None,
    kind: ContentKind = ContentKind.ARTICLE,
    tags: tuple[str, ...] = (),
) -> ContentRecord:
    return ContentRecord(
        id=content_id,
        slug=slug,
        kind=kind,
        title=slug.replace("-", " ").title(),
        summary="",
        body="",
        tags=tags,
        price=None,
        currency=None,
        author_id=author_id,
        published=published,
        published_at=EPOCH if published else None,
    )


def recommendation(content_id: int, score: float) -> RecommendationRecord:
    return RecommendationRecord(content_id=content_id, score=score, reason=None)


ALICE = user_record(1, "Alice")
BOB = user_record(2, "Bob")
CAROL = user_record(3, "Carol")  # staff

ALICE_FIRST_ORDER = order_record(101, ALICE.id, days=1)
ALICE_SECOND_ORDER = order_record(102, ALICE.id, days=2, status=OrderStatus.SHIPPED)
BOB_ORDER = order_record(201, BOB.id, days=3)
ALICE_FIRST_ORDER_LINE = line_record(1001, ALICE_FIRST_ORDER.id, quantity=3, unit_price="2.50")

ARTICLE = content_record(1, "hello-world", author_id=ALICE.id, tags=("intro",))
VIDEO = content_record(2, "how-to-video", kind=ContentKind.VIDEO)
DRAFT = content_record(3, "secret-draft", published=False, author_id=BOB.id)

ALICE_RECOMMENDATIONS = [
    recommendation(content_id, 1.0 - content_id / 100) for content_id in range(1, 16)
]


@dataclass
class Catalog:
    """What the backends hold, by primary key."""

    users: dict[int, UserRecord] = field(default_factory=dict)
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    lines: dict[int, list[OrderLineRecord]] = field(default_factory=dict)
    payments: dict[int, PaymentRecord] = field(default_factory=dict)
    contents: dict[int, ContentRecord] = field(default_factory=dict)
    recommendations: dict[int, list[RecommendationRecord]] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Catalog:
        return cls(
            users=_by_id([ALICE, BOB, CAROL]),
            orders=_by_id([ALICE_FIRST_ORDER, ALICE_SECOND_ORDER, BOB_ORDER]),
            lines={ALICE_FIRST_ORDER.id: [ALICE_FIRST_ORDER_LINE]},
            contents=_by_id([ARTICLE, VIDEO, DRAFT]),
            recommendations={ALICE.id: list(ALICE_RECOMMENDATIONS)},
        )


def _by_id(records: Iterable[Any]) -> dict[int, Any]:
    return {record.id: record for record in records}


# --- the loaders ---------------------------------------------------------------------------


class FakeLoaders:
    """A ``Loaders`` over a ``Catalog``; ``loaders`` is what resolvers take."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog = catalog if catalog is not None else Catalog.default()
        by_subject = {user.subject: user for user in catalog.users.values()}
        by_slug = {content.slug: content for content in catalog.contents.values()}

        self.user_by_id = RecordingLoader[int, UserRecord | None](catalog.users.get)
        self.user_by_subject = RecordingLoader[str, UserRecord | None](by_subject.get)
        self.users_page = RecordingLoader[UserPageKey, Page[UserRecord]](self._users_page)
        self.order_by_id = RecordingLoader[int, OrderRecord | None](catalog.orders.get)
        self.order_page = RecordingLoader[OrderPageKey, Page[OrderRecord]](self._order_page)
        self.lines_by_order = RecordingLoader[int, list[OrderLineRecord]](
            lambda order_id: list(catalog.lines.get(order_id, []))
        )
        self.payment_by_order = RecordingLoader[int, PaymentRecord | None](catalog.payments.get)
        self.content_by_id = RecordingLoader[int, ContentRecord | None](catalog.contents.get)
        self.content_by_slug = RecordingLoader[str, ContentRecord | None](by_slug.get)
        self.content_page = RecordingLoader[ContentPageKey, Page[ContentRecord]](self._content_page)
        self.recommendations = RecordingLoader[RecommendationKey, list[RecommendationRecord]](
            lambda key: catalog.recommendations.get(key.user_id, [])[: key.limit]
        )
        self.loaders = Loaders(
            user_by_id=self.user_by_id,
            user_by_subject=self.user_by_subject,
            users_page=self.users_page,
            order_by_id=self.order_by_id,
            order_page=self.order_page,
            lines_by_order=self.lines_by_order,
            payment_by_order=self.payment_by_order,
            content_by_id=self.content_by_id,
            content_by_slug=self.content_by_slug,
            content_page=self.content_page,
            recommendations=self.recommendations,
        )

    def asked(self) -> dict[str, list[Any]]:
        """The keys asked of each loader that was asked anything."""
        return {
            name: list(loader.asked)
            for name, loader in vars(self).items()
            if isinstance(loader, RecordingLoader) and loader.asked
        }

    def _users_page(self, key: UserPageKey) -> Page[UserRecord]:
        rows = sorted(self.catalog.users.values(), key=lambda user: user.id)
        rows = [user for user in rows if key.after_id is None or user.id > key.after_id]
        return _page(rows, key.first, lambda user: encode_cursor(USER_CURSOR, [user.id]))

    def _order_page(self, key: OrderPageKey) -> Page[OrderRecord]:
        rows = sorted(
            self.catalog.orders.values(),
            key=lambda order: (order.placed_at, order.id),
            reverse=True,
        )
        rows = [
            order
            for order in rows
            if (key.user_id is None or order.user_id == key.user_id)
            and (key.status is None or order.status is key.status)
            and (key.after is None or (order.placed_at, order.id) < key.after)
        ]
        return _page(rows, key.first, order_cursor)

    def _content_page(self, key: ContentPageKey) -> Page[ContentRecord]:
        rows = sorted(self.catalog.contents.values(), key=lambda content: content.id)
        rows = [
            content
            for content in rows
            if content.published
            and (key.after is None or content.id > key.after)
            and (key.kind is None or content.kind is key.kind)
            and (key.tag is None or key.tag in content.tags)
        ]
        return _page(rows, key.first, lambda content: encode_cursor(CONTENT_CURSOR, [content.id]))


def _page(rows: list[V], first: int, cursor: Callable[[V], str]) -> Page[V]:
    items = rows[:first]
    return Page(
        items=items, cursors=[cursor(item) for item in items], has_next_page=len(rows) > first
    )


# --- callers ---------------------------------------------------------------------------------


def user(record: UserRecord, *scopes: str) -> Principal:
    """A user principal for ``record`` (its subject), holding ``scopes``."""
    return Principal(kind=PrincipalKind.USER, subject=record.subject, scopes=frozenset(scopes))


def user_without_row(*scopes: str) -> Principal:
    """A user the identity provider knows but who has no row in ``users`` yet."""
    return Principal(kind=PrincipalKind.USER, subject="subject-nobody", scopes=frozenset(scopes))


def partner(*scopes: str) -> Principal:
    return Principal(kind=PrincipalKind.PARTNER, subject="partnerkey01", scopes=frozenset(scopes))


ANONYMOUS = Principal.anonymous()


# --- the API key service -------------------------------------------------------------------


def api_key_record(key_id: str, *scopes: str) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=1,
        key_id=key_id,
        secret_hash="not-a-real-hash",
        name="partner",
        owner=None,
        scopes=tuple(sorted(scopes)),
        budget=None,
        created_at=EPOCH,
        expires_at=None,
        revoked_at=None,
        last_used_at=None,
    )


class FakeApiKeys(ApiKeys):
    """``ApiKeys`` without a database: ``create``, ``revoke`` and ``page`` answer from memory
    and record their calls. A subclass so mypy holds the fake to the real signatures; it never
    calls the real constructor, so nothing that needs a database or Redis can run."""

    def __init__(self, *records: ApiKeyRecord) -> None:
        self.records = {record.key_id: record for record in records}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def create(
        self,
        *,
        name: str,
        scopes: list[str] | tuple[str, ...],
        owner: str | None = None,
        budget: int | None = None,
        expires_at: datetime | None = None,
        within: Callable[[AsyncConnection, CreatedApiKey], Awaitable[None]] | None = None,
    ) -> CreatedApiKey:
        self.calls.append(
            (
                "create",
                {
                    "name": name,
                    "scopes": scopes,
                    "owner": owner,
                    "budget": budget,
                    "expires_at": expires_at,
                },
            )
        )
        record = api_key_record("newkey000001", *scopes)
        return CreatedApiKey(key="mfk_newkey000001_secret", record=record)

    async def revoke(self, key_id: str) -> ApiKeyRecord | None:
        self.calls.append(("revoke", {"key_id": key_id}))
        return self.records.get(key_id)

    async def page(self, *, first: int | None, after: str | None) -> Page[ApiKeyRecord]:
        self.calls.append(("page", {"first": first, "after": after}))
        items = list(self.records.values())
        return Page(
            items=items,
            cursors=[encode_cursor(API_KEY_CURSOR, [record.id]) for record in items],
            has_next_page=False,
        )
