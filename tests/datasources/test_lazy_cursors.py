"""A page's cursors are encoded only when read, and read like a list of strings."""

from __future__ import annotations

from datasources.pagination import LazyCursors


class Encoder:
    def __init__(self) -> None:
        self.encoded: list[int] = []

    def __call__(self, item: int) -> str:
        self.encoded.append(item)
        return f"cursor-{item}"


def test_nothing_is_encoded_until_a_cursor_is_read() -> None:
    encoder = Encoder()
    cursors = LazyCursors([1, 2, 3], encoder)
    assert len(cursors) == 3
    assert encoder.encoded == []


def test_reading_the_last_cursor_encodes_only_that_one() -> None:
    encoder = Encoder()
    cursors = LazyCursors([1, 2, 3], encoder)
    assert cursors[-1] == "cursor-3"
    assert encoder.encoded == [3]


def test_cursors_iterate_and_slice_like_a_list() -> None:
    cursors = LazyCursors([1, 2, 3], Encoder())
    assert list(cursors) == ["cursor-1", "cursor-2", "cursor-3"]
    assert cursors[1:] == ["cursor-2", "cursor-3"]


def test_an_empty_page_has_no_cursor() -> None:
    cursors = LazyCursors([], Encoder())
    assert not cursors
