"""Cached content is decoded once per process, and what is remembered stays bounded."""

from __future__ import annotations

from typing import Any

import orjson

from datasources import content
from datasources.content import ContentSource


def item(content_id: int) -> bytes:
    return orjson.dumps(
        {"id": content_id, "slug": f"item-{content_id}", "kind": "article", "title": "T"}
    )


def source() -> ContentSource:
    unused: Any = None  # decoding reaches neither the upstream, the cache nor the metrics
    return ContentSource(unused, unused, unused, policy=unused)


def test_equal_cached_bytes_decode_to_the_same_record() -> None:
    decoder = source()
    first = decoder._decode(item(7))
    assert decoder._decode(item(7)) is first
    assert first.id == 7
    assert first.slug == "item-7"


def test_remembered_records_stay_bounded() -> None:
    decoder = source()
    for content_id in range(content._DECODED_LIMIT * 2 + 1):
        decoder._decode(item(content_id))
    assert len(decoder._decoded) <= content._DECODED_LIMIT
