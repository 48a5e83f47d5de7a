"""Relay connections built from keyset pages the datasources already cut."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry import relay

from datasources.pagination import Page

R = TypeVar("R")
N = TypeVar("N", bound=relay.Node)


def to_connection(page: Page[R], to_node: Callable[[R], N]) -> relay.Connection[N]:
    edges = [
        relay.Edge(cursor=cursor, node=to_node(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return relay.Connection(
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        edges=edges,
    )
