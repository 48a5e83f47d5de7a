"""Reading content: published content is public; drafts need ``content:read``.

A draft the caller may not see reads exactly like an id that does not exist, through
``content``, ``node`` and every join, so unpublished work cannot be discovered by probing ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from auth.access import Requirement, any_of
from auth.principal import Principal
from contract.errors import BadUserInputError
from contract.scopes import Scope
from datasources.content import (
    ContentKind,
    ContentPageKey,
    ContentRecord,
    is_slug,
    parse_content_cursor,
)
from datasources.loaders import Loaders
from datasources.pagination import Page, check_first
from datasources.users import UserRecord

READ_DRAFTS: Requirement = any_of(Scope.CONTENT_READ)

MAX_TAG_LENGTH = 64


def visible(principal: Principal, record: ContentRecord | None) -> ContentRecord | None:
    if record is None:
        return None
    if record.published or principal.satisfies(READ_DRAFTS):
        return record
    return None


async def get_contents(
    *, loaders: Loaders, principal: Principal, content_ids: Sequence[int]
) -> list[ContentRecord | None]:
    records = await loaders.content_by_id.load_many(list(content_ids))
    return [visible(principal, record) for record in records]


async def get_content(
    *, loaders: Loaders, principal: Principal, content_id: int | None, slug: str | None
) -> ContentRecord | None:
    """By id or by slug: exactly one of the two."""
    if (content_id is None) == (slug is None):
        raise BadUserInputError("Pass exactly one of `id` and `slug`")
    if content_id is not None:
        (record,) = await get_contents(
            loaders=loaders, principal=principal, content_ids=[content_id]
        )
        return record
    if slug is None or not is_slug(slug):
        return None  # no such slug can exist upstream: missing, without a call
    return visible(principal, await loaders.content_by_slug.load(slug))


async def list_contents(
    *,
    loaders: Loaders,
    first: int | None,
    after: str | None,
    kind: ContentKind | None,
    tag: str | None,
) -> Page[ContentRecord]:
    """Published content in catalog order; open to everyone."""
    if tag is not None and not 1 <= len(tag) <= MAX_TAG_LENGTH:
        raise BadUserInputError(f"`tag` must be 1 to {MAX_TAG_LENGTH} characters")
    key = ContentPageKey(
        first=check_first(first),
        after=None if after is None else parse_content_cursor(after),
        kind=kind,
        tag=tag,
    )
    return await loaders.content_page.load(key)


async def author_of(*, loaders: Loaders, record: ContentRecord) -> UserRecord | None:
    """A byline is public, like the content it signs; the author's email stays gated."""
    if record.author_id is None:
        return None
    return await loaders.user_by_id.load(record.author_id)
