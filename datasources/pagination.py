"""Opaque keyset cursors and the page shape every connection is built from.

Cursors are base64url JSON of the sort key of the last row seen, tagged with what they page over,
so a cursor from one connection cannot be replayed against another and OFFSET is never needed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

import orjson

from contract.errors import BadUserInputError

T = TypeVar("T")

#: Ids are BIGINT: anything outside 1..2**63-1 is malformed input, not a database error.
MAX_ID = 2**63 - 1

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool = False

    @classmethod
    def empty(cls) -> Page[T]:
        return cls(items=(), cursors=(), has_next_page=False)


class LazyCursors(Sequence[str]):
    """The cursors of a page's items, each encoded when it is read.

    Most queries select no cursor, or only ``pageInfo.endCursor``; encoding one per listed row
    (JSON and base64) cost more than building the row's record.
    """

    __slots__ = ("_cursor_of", "_items")

    def __init__(self, items: Sequence[T], cursor_of: Callable[[T], str]) -> None:
        self._items: Sequence[object] = items
        self._cursor_of: Callable[[object], str] = cursor_of  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._cursor_of(item) for item in self._items[index]]
        return self._cursor_of(self._items[index])


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInputError(f"`first` must be between 1 and {MAX_PAGE_SIZE}, got {first}")
    return first


def encode_cursor(kind: str, key: Sequence[str | int]) -> str:
    """Compact JSON (orjson: one cursor per listed row, so it is on the hot path), base64url."""
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> BadUserInputError:
    return BadUserInputError("`after` is not a valid cursor for this connection")


#: Far longer than any cursor the gateway writes (a kind, a timestamp and an id, in base64).
MAX_CURSOR_LENGTH = 512


def _valid_part(part: object) -> bool:
    if isinstance(part, bool):
        return False
    if isinstance(part, int):
        return 0 < part <= MAX_ID
    return isinstance(part, str)


def decode_cursor(kind: str, cursor: str, arity: int) -> list[str | int]:
    """The sort key inside ``cursor``; anything malformed or foreign is ``BAD_USER_INPUT``."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: a "cursor" of nested brackets deeper than the JSON decoder goes.
        raise invalid_cursor() from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != arity + 1
        or decoded[0] != kind
        or not all(_valid_part(part) for part in decoded[1:])
    ):
        raise invalid_cursor()
    return decoded[1:]


def decode_id_cursor(kind: str, cursor: str) -> int:
    """The id inside a cursor of a connection paged by id alone."""
    (row_id,) = decode_cursor(kind, cursor, 1)
    if not isinstance(row_id, int):
        raise invalid_cursor()
    return row_id
