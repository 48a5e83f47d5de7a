"""Relay connections built from keyset pages the datasources already cut.

Edges and page info read their cursors from the page when they are selected: most queries
select none (or only ``endCursor``), and the page encodes a cursor only when it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry import relay

from datasources.pagination import Page

R = TypeVar("R")
N = TypeVar("N", bound=relay.Node)


class _PagedEdge(relay.Edge[Any]):
    def __init__(self, cursors: Sequence[str], index: int, node: Any) -> None:
        self._cursors = cursors
        self._index = index
        self.node = node

    @property
    def cursor(self) -> str:  # type: ignore[override]  # read-only: Strawberry only reads it
        return self._cursors[self._index]


class _PagedInfo(relay.PageInfo):
    def __init__(self, page: Page[Any]) -> None:
        self._cursors = page.cursors
        self.has_next_page = page.has_next_page
        self.has_previous_page = page.has_previous_page

    @property
    def start_cursor(self) -> str | None:  # type: ignore[override]  # read-only, as above
        return self._cursors[0] if self._cursors else None

    @property
    def end_cursor(self) -> str | None:  # type: ignore[override]  # read-only, as above
        return self._cursors[-1] if self._cursors else None


def to_connection(page: Page[R], to_node: Callable[[R], N]) -> relay.Connection[N]:
    cursors = page.cursors
    edges: list[relay.Edge[N]] = [
        _PagedEdge(cursors, index, to_node(item)) for index, item in enumerate(page.items)
    ]
    return relay.Connection(page_info=_PagedInfo(page), edges=edges)
