"""The deterministic content catalog that seeded order lines point into.

Order lines reference content by id; the content service (``demo.content``) serves the same
ids with these prices, so the seeder and the service agree without sharing a database. The
recommendations service builds the same catalog for its tags, so the two services agree
without calling each other.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

#: Ids 1..PRODUCT_COUNT are purchasable products.
PRODUCT_COUNT = 200
CURRENCY = "EUR"


def product_price(content_id: int) -> Decimal:
    """A stable price between 4.99 and 103.99 for a product id."""
    if not 1 <= content_id <= PRODUCT_COUNT:
        raise ValueError(f"content id {content_id} is not a product")
    return Decimal(4 + (content_id * 37) % 100) + Decimal("0.99")


# --- the content catalog ---------------------------------------------------------------------
# Products come first so that their ids are the ones the seeder's order lines reference; then
# articles, then videos. Each item is drawn from its own generator, seeded with the catalog
# seed, its kind and its id, so an item never changes when the number of other items does.

#: The seed of the content catalog (the seeder's seed only shapes users and orders).
CATALOG_SEED: Final = 42
#: Drafts are never products: a product in an order line must always be servable.
DRAFT_RATE: Final = 0.1
#: Every item is published at some moment of the year after this one (drafts have no date).
PUBLISHED_SINCE: Final = datetime(2025, 1, 1, tzinfo=UTC)

TAGS: Final = (
    "async", "books", "cooking", "databases", "design", "finance", "fitness", "gaming",
    "gardening", "graphql", "history", "home", "music", "outdoors", "photography", "python",
    "rust", "science", "security", "travel",
)  # fmt: skip

_PRODUCT_ADJECTIVES: Final = (
    "Compact", "Classic", "Deluxe", "Everyday", "Foldable", "Handmade", "Lightweight",
    "Modular", "Portable", "Quiet", "Rugged", "Smart", "Solar", "Vintage", "Wireless",
)  # fmt: skip
_PRODUCT_NOUNS: Final = (
    "Backpack", "Camera Strap", "Desk Lamp", "Field Guide", "Headphones", "Keyboard",
    "Kettle", "Notebook", "Planter", "Speaker", "Tent", "Water Bottle", "Yoga Mat",
)  # fmt: skip
_ARTICLE_OPENINGS: Final = (
    "A Beginner's Guide to", "Ten Lessons on", "What Nobody Tells You About",
    "The Quiet Revolution in", "Getting Started with", "Rethinking", "Notes on",
)  # fmt: skip
_VIDEO_OPENINGS: Final = (
    "Watch:", "Live Session:", "Walkthrough:", "Behind the Scenes of", "Masterclass:",
)  # fmt: skip
_SENTENCES: Final = (
    "It started as a weekend experiment and turned into a habit.",
    "The details matter more than the headline suggests.",
    "Most of the cost hides in the parts nobody looks at.",
    "A small change in routine made the biggest difference.",
    "We compared the common approaches side by side.",
    "The results surprised even the people who built it.",
    "Here is what worked, what did not, and why.",
    "Good defaults beat clever configuration almost every time.",
    "Patience turned out to be the most useful tool.",
    "The community around it is what keeps it alive.",
)


class ContentKind(StrEnum):
    PRODUCT = "product"
    ARTICLE = "article"
    VIDEO = "video"


class ContentStatus(StrEnum):
    PUBLISHED = "published"
    DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class ContentItem:
    """One catalog entry; ``price`` is set for products only, ``published_at`` for published."""

    id: int
    slug: str
    kind: ContentKind
    title: str
    summary: str
    body: str
    tags: tuple[str, ...]
    price: Decimal | None
    author_id: int
    status: ContentStatus
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every item in ascending id, with the indexes the content service answers from."""

    items: tuple[ContentItem, ...]
    by_id: Mapping[int, ContentItem]
    by_slug: Mapping[str, ContentItem]


def build_catalog(
    *, users: int = 200, articles: int = 150, videos: int = 100, seed: int = CATALOG_SEED
) -> Catalog:
    """The deterministic catalog: ids 1..PRODUCT_COUNT products, then articles, then videos."""
    if users < 1 or articles < 0 or videos < 0:
        raise ValueError("users must be positive, articles and videos not negative")
    kinds = (
        [ContentKind.PRODUCT] * PRODUCT_COUNT
        + [ContentKind.ARTICLE] * articles
        + [ContentKind.VIDEO] * videos
    )
    items = tuple(
        _item(content_id, kind, users=users, seed=seed)
        for content_id, kind in enumerate(kinds, start=1)
    )
    return Catalog(
        items=items,
        by_id=MappingProxyType({item.id: item for item in items}),
        by_slug=MappingProxyType({item.slug: item for item in items}),
    )


def _item(content_id: int, kind: ContentKind, *, users: int, seed: int) -> ContentItem:
    rng = random.Random(f"manifold-content:{seed}:{kind.value}:{content_id}")  # noqa: S311
    tags = tuple(sorted(rng.sample(TAGS, rng.randint(1, 4))))
    topic = " and ".join(tag.capitalize() for tag in tags[:2])
    if kind is ContentKind.PRODUCT:
        title = f"{rng.choice(_PRODUCT_ADJECTIVES)} {rng.choice(_PRODUCT_NOUNS)}"
        summary = f"A {title.lower()} for anyone into {', '.join(tags)}."
    elif kind is ContentKind.ARTICLE:
        title = f"{rng.choice(_ARTICLE_OPENINGS)} {topic}"
        summary = f"An article on {', '.join(tags)}."
    else:
        title = f"{rng.choice(_VIDEO_OPENINGS)} {topic}"
        summary = f"A video about {', '.join(tags)}."
    paragraphs = [" ".join(rng.sample(_SENTENCES, 3)) for _ in range(rng.randint(2, 4))]
    draft = kind is not ContentKind.PRODUCT and rng.random() < DRAFT_RATE
    published_at = None
    if not draft:
        published_at = PUBLISHED_SINCE + timedelta(seconds=rng.randrange(365 * 86_400))
    # Drawn last: everything else about an item is the same whatever the number of users.
    author_id = rng.randint(1, users)
    return ContentItem(
        id=content_id,
        slug=f"{kind.value}-{content_id}-{_slugify(title)}",
        kind=kind,
        title=title,
        summary=summary,
        body="\n\n".join(paragraphs),
        tags=tags,
        price=product_price(content_id) if kind is ContentKind.PRODUCT else None,
        author_id=author_id,
        status=ContentStatus.DRAFT if draft else ContentStatus.PUBLISHED,
        published_at=published_at,
    )


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
