"""Products as the content service has them now: what an order is priced from.

Reads for display go through the shared cache and may be a minute old; an order must be priced
from the service's current answer, so this asks it directly, all of an order's products in one
call (an order has at most 50 lines, within one batch of the service).
"""

from __future__ import annotations

from collections.abc import Sequence

from datasources.content import ContentRecord, ContentSource, is_content_id, parse_content
from datasources.resilience import Deadline
from datasources.upstream import chunked


async def products_now(
    content: ContentSource, ids: Sequence[int], *, deadline: Deadline, request_id: str = ""
) -> dict[int, ContentRecord]:
    """The items the service knows among ``ids``, uncached; unknown ids are absent."""
    wanted = [content_id for content_id in dict.fromkeys(ids) if is_content_id(content_id)]
    found: dict[int, ContentRecord] = {}
    for chunk in chunked(wanted, 100):
        items, _max_age = await content.fetch_batch(chunk, deadline=deadline, request_id=request_id)
        for raw in items:
            record = parse_content(raw)
            found[record.id] = record
    return found
