"""GraphQL presentation of content (articles, videos, products) from the content service.

Fields backed by a REST upstream are nullable on purpose: when the service is slow or down only
they become null, each with its own ``UPSTREAM_*`` error, and the rest of the response is served.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from datasources.content import ContentKind as StoredContentKind
from datasources.content import ContentRecord
from resolvers import content as content_resolvers
from schema.connections import to_connection
from schema.context import Context
from schema.ids import node_id_of, parse_node_id
from schema.money import Money

if TYPE_CHECKING:
    from schema.users import User


@strawberry.enum(description="What a content item is.")
class ContentKind(Enum):
    """The public names, mapped explicitly to the content service's values."""

    ARTICLE = "article"
    VIDEO = "video"
    PRODUCT = "product"


_FROM_STORED: dict[StoredContentKind, ContentKind] = {
    StoredContentKind.ARTICLE: ContentKind.ARTICLE,
    StoredContentKind.VIDEO: ContentKind.VIDEO,
    StoredContentKind.PRODUCT: ContentKind.PRODUCT,
}
_TO_STORED = {public: stored for stored, public in _FROM_STORED.items()}


@strawberry.type(description="An article, video or purchasable product from the content service.")
class Content(relay.Node):
    pk: relay.NodeID[int]
    slug: str = strawberry.field(description="Stable, URL-safe name.")
    kind: ContentKind
    title: str
    summary: str
    body: str
    tags: list[str] = strawberry.field(description="Topic tags, for browsing and filtering.")

    @strawberry.field(description="Set for products only.")
    def price(self) -> Money | None:
        """Built when selected: most content is not a product, and most queries do not ask."""
        record = self.record
        if record.price is None or not record.currency:
            return None
        return Money.of(record.price, record.currency)

    record: strawberry.Private[ContentRecord]

    @strawberry.field(
        description="When it was published (UTC); null for drafts, which need content:read."
    )
    def published_at(self) -> datetime | None:
        return self.record.published_at

    @classmethod
    def from_record(cls, record: ContentRecord) -> Content:
        return cls(
            pk=record.id,
            slug=record.slug,
            kind=_FROM_STORED[record.kind],
            title=record.title,
            summary=record.summary,
            body=record.body,
            tags=list(record.tags),
            record=record,
        )

    @strawberry.field(description="Who wrote it (a public byline; email still needs a scope).")
    async def author(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.users")] | None:
        from schema.users import User  # noqa: PLC0415 - User and Content refer to each other

        user = await content_resolvers.author_of(loaders=info.context.loaders, record=self.record)
        return None if user is None else User.from_record(user)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context],
        node_ids: Iterable[str],
        required: bool = False,
        **_kwargs: Any,
    ) -> list[Content | None]:
        records = await content_resolvers.get_contents(
            loaders=info.context.loaders,
            principal=info.context.principal,
            content_ids=[parse_node_id(node_id) for node_id in node_ids],
        )
        return [None if record is None else cls.from_record(record) for record in records]


async def content_by_id(info: strawberry.Info[Context], content_id: int) -> Content | None:
    """A joined content item (order line, recommendation), authorized like ``content(id:)``."""
    (record,) = await content_resolvers.get_contents(
        loaders=info.context.loaders, principal=info.context.principal, content_ids=[content_id]
    )
    return None if record is None else Content.from_record(record)


@strawberry.type
class ContentQuery:
    @strawberry.field(
        description="One content item by global id or by slug (pass exactly one). Published "
        "content is public; drafts need content:read."
    )
    async def content(
        self,
        info: strawberry.Info[Context],
        id: relay.GlobalID | None = None,
        slug: str | None = None,
    ) -> Content | None:
        content_id = None if id is None else parse_node_id(node_id_of(id, "Content"))
        record = await content_resolvers.get_content(
            loaders=info.context.loaders,
            principal=info.context.principal,
            content_id=content_id,
            slug=slug,
        )
        return None if record is None else Content.from_record(record)

    @strawberry.field(
        description="Published content in catalog order, optionally of one kind or tag. Null "
        "(with an UPSTREAM_* error) only when the content service cannot answer."
    )
    async def contents(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: str | None = None,
        kind: ContentKind | None = None,
        tag: str | None = None,
    ) -> relay.Connection[Content] | None:
        page = await content_resolvers.list_contents(
            loaders=info.context.loaders,
            first=first,
            after=after,
            kind=None if kind is None else _TO_STORED[kind],
            tag=tag,
        )
        return to_connection(page, Content.from_record)
