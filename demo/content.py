"""The content service: the deterministic catalog of ``demo.catalog`` over REST.

A stand-in for a content team's service the gateway does not own. Its contract (what the
gateway's content datasource relies on):

- ``GET /content/{id}``: 200 the item; 404 ``{"error": "not_found"}``; 400 for a non-integer id.
- ``GET /content?ids=1,2,3`` / ``?slugs=a,b``: 200 ``{"items": [...]}`` with the items found, in
  the order asked, duplicates collapsed, drafts included (visibility is the gateway's call);
  at most 100 entries.
- ``GET /content?kind=&tag=&status=&limit=&after=``: a page in ascending id,
  ``{"items": [...], "nextCursor": "..." | null}``; ``status`` is ``published`` unless
  ``draft`` or ``any`` is asked for; ``limit`` 1..100 (20); ``after`` a ``nextCursor``, which
  is the id of the page's last item (so any item's id resumes the listing after that item).
- Every 200 carries ``Cache-Control: max-age=<cache_max_age>``, every 404 ``max-age=5``.
- Errors are ``{"error": "bad_request" | "not_found", "message": "..."}``.

Run it with ``python -m demo.content --port 8101``; its OpenAPI document is ``/openapi.json``.
"""

from __future__ import annotations

import argparse
import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.catalog import (
    CURRENCY,
    Catalog,
    ContentItem,
    ContentKind,
    ContentStatus,
    build_catalog,
)
from demo.faults import (
    FaultInjector,
    Faults,
    bad_request,
    operational_routes,
    parse_service_arguments,
)
from demo.openapi import content_document

__all__ = ["MAX_BATCH", "ContentConfig", "create_app", "item_json", "main"]

#: The most ids or slugs one batch request may name, and the largest page.
MAX_BATCH: Final = 100
DEFAULT_LIMIT: Final = 20
NOT_FOUND_MAX_AGE: Final = 5

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_LISTING_PARAMETERS: Final = frozenset({"kind", "tag", "status", "limit", "after"})

_Key = TypeVar("_Key", int, str)


@dataclass(frozen=True, slots=True)
class ContentConfig:
    users: int = 200
    articles: int = 150
    videos: int = 100
    cache_max_age: int = 60
    faults: Faults = field(default_factory=Faults)


def create_app(config: ContentConfig | None = None) -> Starlette:
    """A content service over a catalog built now, from ``config`` alone."""
    config = ContentConfig() if config is None else config
    catalog = build_catalog(users=config.users, articles=config.articles, videos=config.videos)
    api = _ContentApi(catalog, cache_max_age=config.cache_max_age)
    injector = FaultInjector(config.faults)
    routes = [
        injector.route("/content", api.collection),
        injector.route("/content/{id}", api.item),
        *operational_routes(
            injector,
            content_document(
                max_batch=MAX_BATCH,
                default_limit=DEFAULT_LIMIT,
                not_found_max_age=NOT_FOUND_MAX_AGE,
            ),
        ),
    ]
    app = Starlette(routes=routes)
    app.state.faults = injector
    return app


def item_json(item: ContentItem) -> dict[str, Any]:
    """An item as the API writes it (camelCase; prices as decimal strings)."""
    return {
        "id": item.id,
        "slug": item.slug,
        "kind": item.kind.value,
        "title": item.title,
        "summary": item.summary,
        "body": item.body,
        "tags": list(item.tags),
        "price": None
        if item.price is None
        else {"amount": f"{item.price:.2f}", "currency": CURRENCY},
        "authorId": item.author_id,
        "status": item.status.value,
        "publishedAt": None
        if item.published_at is None
        else item.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class _ContentApi:
    def __init__(self, catalog: Catalog, *, cache_max_age: int) -> None:
        self._catalog = catalog
        self._ids = [item.id for item in catalog.items]
        self._cache_control = f"max-age={cache_max_age}"

    async def item(self, request: Request) -> Response:
        raw = request.path_params["id"]
        content_id = _integer(raw)
        if content_id is None:
            return bad_request(f"content id {raw!r} is not an integer")
        item = self._catalog.by_id.get(content_id)
        if item is None:
            return JSONResponse(
                {"error": "not_found", "message": f"no content with id {content_id}"},
                status_code=404,
                headers={"Cache-Control": f"max-age={NOT_FOUND_MAX_AGE}"},
            )
        return self._ok(item_json(item))

    async def collection(self, request: Request) -> Response:
        query = request.query_params
        batch = [name for name in ("ids", "slugs") if name in query]
        if len(batch) == 2:
            return bad_request("give ids or slugs, not both")
        if batch:
            listing = sorted(_LISTING_PARAMETERS.intersection(query))
            if listing:
                return bad_request(f"{batch[0]} cannot be combined with {', '.join(listing)}")
            if batch[0] == "ids":
                return self._batch(query["ids"], _integer, self._catalog.by_id.get, "ids")
            return self._batch(query["slugs"], _slug, self._catalog.by_slug.get, "slugs")
        return self._listing(request)

    def _batch(
        self,
        raw: str,
        parse: Callable[[str], _Key | None],
        find: Callable[[_Key], ContentItem | None],
        name: str,
    ) -> Response:
        entries = raw.split(",")
        if len(entries) > MAX_BATCH:
            return bad_request(f"at most {MAX_BATCH} {name} per request")
        keys: dict[_Key, None] = {}
        for entry in entries:
            key = parse(entry.strip())
            if key is None:
                return bad_request(f"{entry!r} is not a valid entry of {name}")
            keys[key] = None
        found = (find(key) for key in keys)
        return self._ok({"items": [item_json(item) for item in found if item is not None]})

    def _listing(self, request: Request) -> Response:
        query = request.query_params
        try:
            kind = _kind(query.get("kind"))
            status = _status(query.get("status", ContentStatus.PUBLISHED.value))
            limit = _limit(query.get("limit"))
            after = _cursor_id(query.get("after"))
        except _BadRequest as error:
            return bad_request(str(error))
        tag = query.get("tag")
        page: list[ContentItem] = []
        items = self._catalog.items
        for item in items[bisect.bisect_right(self._ids, after) :]:
            if (
                (kind is None or item.kind is kind)
                and (status is None or item.status is status)
                and (tag is None or tag in item.tags)
            ):
                page.append(item)
                if len(page) > limit:
                    break
        more = len(page) > limit
        page = page[:limit]
        next_cursor = str(page[-1].id) if more else None
        return self._ok({"items": [item_json(item) for item in page], "nextCursor": next_cursor})

    def _ok(self, payload: dict[str, Any]) -> Response:
        return JSONResponse(payload, headers={"Cache-Control": self._cache_control})


class _BadRequest(ValueError):
    pass


def _integer(raw: str) -> int | None:
    return int(raw) if _INTEGER.fullmatch(raw) else None


def _slug(raw: str) -> str | None:
    return raw or None


def _kind(raw: str | None) -> ContentKind | None:
    if raw is None:
        return None
    try:
        return ContentKind(raw)
    except ValueError:
        raise _BadRequest("kind must be product, article or video") from None


def _status(raw: str) -> ContentStatus | None:
    """``None`` means any status."""
    if raw == "any":
        return None
    try:
        return ContentStatus(raw)
    except ValueError:
        raise _BadRequest("status must be published, draft or any") from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    limit = _integer(raw)
    if limit is None or not 1 <= limit <= MAX_BATCH:
        raise _BadRequest(f"limit must be an integer from 1 to {MAX_BATCH}")
    return limit


def _cursor_id(raw: str | None) -> int:
    """The id a cursor points after (0 for no cursor).

    A cursor is the id of the last item of a page, in decimal: listing is keyset pagination
    on the id, so a client that shows one cursor per item (as a Relay connection does) can
    resume after any item it has seen, not only after the end of a page.
    """
    if raw is None:
        return 0
    content_id = _integer(raw)
    if content_id is None or content_id < 0:
        raise _BadRequest("after must be a cursor (the id of the last item seen)")
    return content_id


# --- command line ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.content", description=__doc__)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--users", type=int, default=200, help="authors are users 1..N")
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--videos", type=int, default=100)
    parser.add_argument("--cache-max-age", type=int, default=60)
    arguments, faults = parse_service_arguments(parser, argv)
    config = ContentConfig(
        users=arguments.users,
        articles=arguments.articles,
        videos=arguments.videos,
        cache_max_age=arguments.cache_max_age,
        faults=faults,
    )
    uvicorn.run(create_app(config), host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
