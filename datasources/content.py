"""The content service: articles, videos and products, read through the shared cache.

Reads by id go cache → single-flight → one batched ``GET /content?ids=…`` per chunk. Entries
are the upstream's JSON under versioned keys, kept for the upstream's ``Cache-Control: max-age``
(or the configured default), and ids the upstream does not know are remembered briefly so a
stream of lookups for a missing id does not become a stream of upstream calls.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import orjson

from contract.errors import UpstreamError, UpstreamTimeoutError
from datasources.cache import Cache
from datasources.instrumentation import DatasourceMetrics
from datasources.pagination import (
    LazyCursors,
    Page,
    decode_id_cursor,
    encode_cursor,
    invalid_cursor,
)
from datasources.resilience import Deadline
from datasources.singleflight import SingleFlight
from datasources.throttled_log import ThrottledWarning
from datasources.upstream import Upstream, chunked

logger = logging.getLogger("manifold.content")

#: Bump when the cached encoding changes, so a deploy never reads the previous format.
CACHE_VERSION = 1
#: The upstream contract: content ids are 1..10**18-1 (at most 18 digits) and slugs URL-safe.
#: Anything else cannot exist upstream, so it is answered here without a call, and one
#: malformed key can never fail a batch that other keys (or other requests) share.
MAX_CONTENT_ID = 10**18 - 1
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,199}")
CONTENT_CURSOR = "content"
_NEGATIVE = b"\x00missing"
#: Decoded cache entries a process remembers (see ``ContentSource._decode``).
_DECODED_LIMIT = 1024


class ContentKind(StrEnum):
    ARTICLE = "article"
    VIDEO = "video"
    PRODUCT = "product"


@dataclass(frozen=True, slots=True)
class ContentRecord:
    id: int
    slug: str
    kind: ContentKind
    title: str
    summary: str
    body: str
    tags: tuple[str, ...]
    price: Decimal | None
    currency: str | None
    author_id: int | None
    published: bool
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContentPageKey:
    first: int
    after: int | None = None
    kind: ContentKind | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class CachePolicy:
    ttl_seconds: float = 60.0
    max_ttl_seconds: float = 3600.0
    negative_ttl_seconds: float = 5.0


class MalformedContentError(UpstreamError):
    """The upstream answered with something that is not a content item."""


def parse_content(raw: Any) -> ContentRecord:
    """A content item from the upstream's JSON; anything malformed is the upstream's fault."""
    try:
        price = raw.get("price")
        published_at = raw.get("publishedAt")
        author_id = raw.get("authorId")
        return ContentRecord(
            id=int(raw["id"]),
            slug=str(raw["slug"]),
            kind=ContentKind(raw["kind"]),
            title=str(raw["title"]),
            summary=str(raw.get("summary") or ""),
            body=str(raw.get("body") or ""),
            tags=tuple(str(tag) for tag in raw.get("tags") or ()),
            price=Decimal(str(price["amount"])) if price else None,
            currency=str(price["currency"]) if price else None,
            author_id=int(author_id) if author_id is not None else None,
            published=raw.get("status", "published") == "published",
            published_at=(
                datetime.fromisoformat(published_at.replace("Z", "+00:00"))
                if published_at
                else None
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
        logger.warning("the content service sent a malformed item")
        raise MalformedContentError("the content service is unavailable") from None


def content_cursor(record: ContentRecord) -> str:
    return encode_cursor(CONTENT_CURSOR, [record.id])


def parse_content_cursor(cursor: str) -> int:
    content_id = decode_id_cursor(CONTENT_CURSOR, cursor)
    if content_id > MAX_CONTENT_ID:
        raise invalid_cursor()
    return content_id


def is_content_id(value: int) -> bool:
    return 0 < value <= MAX_CONTENT_ID


def is_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


class ContentSource:
    """Shared by every request of one app: the upstream, the cache and the flights in progress."""

    def __init__(
        self,
        upstream: Upstream,
        cache: Cache,
        metrics: DatasourceMetrics,
        *,
        policy: CachePolicy,
        max_batch_size: int = 100,
    ) -> None:
        self.upstream = upstream
        self._cache = cache
        self._metrics = metrics
        self._policy = policy
        self._max_batch_size = max_batch_size
        self._flights: SingleFlight[int, ContentRecord | UpstreamError | None] = SingleFlight()
        self._warn_cache = ThrottledWarning(logger)
        #: Records already decoded from cached bytes, keyed by those bytes: a hit on a cached
        #: item costs a dict lookup instead of JSON decoding and validation (a list of order
        #: lines reads dozens per request). Equal bytes decode to an equal, immutable record.
        self._decoded: dict[bytes, ContentRecord] = {}

    @staticmethod
    def cache_key(content_id: int) -> str:
        return f"content:v{CACHE_VERSION}:{content_id}"

    async def by_ids(
        self, ids: Sequence[int], *, deadline: Deadline, request_id: str = ""
    ) -> dict[int, ContentRecord | UpstreamError]:
        """Content for each id the upstream knows; unknown ids are absent.

        An id whose upstream call failed maps to that error (the dataloader fails that key
        alone), so cached items of the same batch are still served during an outage.
        """
        wanted = [content_id for content_id in dict.fromkeys(ids) if is_content_id(content_id)]
        if not wanted:
            return {}

        async def fetch(keys: list[int]) -> dict[int, ContentRecord | UpstreamError | None]:
            return await self._read_through(keys, deadline=deadline, request_id=request_id)

        try:
            found = await self._flights.load_many(wanted, fetch, wait_seconds=deadline.remaining())
        except TimeoutError:
            raise UpstreamTimeoutError("the content service did not answer in time") from None
        return {key: value for key, value in found.items() if value is not None}

    async def by_slugs(
        self, slugs: Sequence[str], *, deadline: Deadline, request_id: str = ""
    ) -> dict[str, ContentRecord]:
        wanted = [slug for slug in dict.fromkeys(slugs) if is_slug(slug)]
        results: dict[str, ContentRecord] = {}
        for chunk in chunked(wanted, self._max_batch_size):
            response = await self.upstream.get_json(
                "/content",
                params={"slugs": ",".join(chunk)},
                deadline=deadline,
                operation="GET /content?slugs",
                request_id=request_id,
            )
            for record in self._items(response.body):
                results[record.slug] = record
        return results

    async def page(
        self, key: ContentPageKey, *, deadline: Deadline, request_id: str = ""
    ) -> Page[ContentRecord]:
        """Published content in id order, paged by keyset on the id (``after`` = last id seen)."""
        params = {"limit": str(key.first), "status": "published"}
        if key.after is not None:
            params["after"] = str(key.after)
        if key.kind is not None:
            params["kind"] = key.kind.value
        if key.tag is not None:
            params["tag"] = key.tag
        response = await self.upstream.get_json(
            "/content",
            params=params,
            deadline=deadline,
            operation="GET /content?kind",
            request_id=request_id,
        )
        items = self._items(response.body)[: key.first]
        return Page(
            items=items,
            cursors=LazyCursors(items, content_cursor),
            has_next_page=bool(response.body.get("nextCursor")),
            has_previous_page=key.after is not None,
        )

    def _items(self, body: Any) -> list[ContentRecord]:
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            logger.warning("the content service sent a body without items")
            raise MalformedContentError("the content service is unavailable")
        return [parse_content(item) for item in body["items"]]

    def _decode(self, value: bytes) -> ContentRecord:
        record = self._decoded.get(value)
        if record is None:
            record = parse_content(orjson.loads(value))
            if len(self._decoded) >= _DECODED_LIMIT:
                self._decoded.clear()
            self._decoded[value] = record
        return record

    async def _read_through(
        self, ids: list[int], *, deadline: Deadline, request_id: str
    ) -> dict[int, ContentRecord | UpstreamError | None]:
        results: dict[int, ContentRecord | UpstreamError | None] = {}
        cached = await self._cache_get(ids)
        missing: list[int] = []
        hits = negative = 0
        for content_id, value in zip(ids, cached, strict=True):
            if value is None:
                missing.append(content_id)
            elif value == _NEGATIVE:
                results[content_id] = None
                negative += 1
            else:
                results[content_id] = self._decode(value)
                hits += 1
        self._metrics.record_cache("content", "hit", hits)
        self._metrics.record_cache("content", "negative_hit", negative)
        self._metrics.record_cache("content", "miss", len(missing))
        if not missing:
            return results

        chunks = chunked(missing, self._max_batch_size)
        answers = await asyncio.gather(
            *(
                self.fetch_batch(chunk, deadline=deadline, request_id=request_id)
                for chunk in chunks
            ),
            return_exceptions=True,
        )
        to_cache: dict[str, tuple[bytes, float]] = {}
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, UpstreamError):
                # Only this chunk's ids fail; what the cache had is served, nothing is cached.
                results.update(dict.fromkeys(chunk, answer))
                continue
            if isinstance(answer, BaseException):
                raise answer
            items, max_age = answer
            ttl = self._ttl(max_age)
            for raw in items:
                record = parse_content(raw)
                results[record.id] = record
                if ttl > 0:
                    to_cache[self.cache_key(record.id)] = (orjson.dumps(raw), ttl)
        for content_id in missing:
            if content_id not in results:
                results[content_id] = None
                to_cache[self.cache_key(content_id)] = (
                    _NEGATIVE,
                    self._policy.negative_ttl_seconds,
                )
        await self._cache_set(to_cache)
        return results

    async def fetch_batch(
        self, ids: Sequence[int], *, deadline: Deadline, request_id: str = ""
    ) -> tuple[list[Any], float | None]:
        """One ``GET /content?ids=…`` past the cache: the raw items and their ``max-age``."""
        response = await self.upstream.get_json(
            "/content",
            params={"ids": ",".join(map(str, ids))},
            deadline=deadline,
            operation="GET /content?ids",
            request_id=request_id,
        )
        body = response.body
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            raise MalformedContentError("the content service is unavailable")
        return list(body["items"]), response.max_age

    def _ttl(self, max_age: float | None) -> float:
        if max_age is None:
            return self._policy.ttl_seconds
        return min(max_age, self._policy.max_ttl_seconds)

    async def _cache_get(self, ids: list[int]) -> list[bytes | None]:
        """A cache outage costs latency, never the answer: read as if everything missed."""
        try:
            return await self._cache.get_many([self.cache_key(content_id) for content_id in ids])
        except Exception:
            self._warn_cache("content cache read failed; reading the upstream instead")
            return [None] * len(ids)

    async def _cache_set(self, items: dict[str, tuple[bytes, float]]) -> None:
        try:
            await self._cache.set_many(items)
        except Exception:
            self._warn_cache("content cache write failed; the next read goes upstream again")
