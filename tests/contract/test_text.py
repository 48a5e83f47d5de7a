"""The one text rule every boundary applies: what a caller's string may hold."""

from __future__ import annotations

import pytest

from contract.text import first_unsafe_character, is_printable


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("a\x00b", "U+0000"),
        ("bell\x07", "U+0007"),
        ("esc\x1b[31m", "U+001B"),
        ("del\x7f", "U+007F"),
        ("c1\x9b", "U+009B"),
        ("lone \ud800 surrogate", "U+D800"),
    ],
)
def test_nul_controls_and_surrogates_are_refused(value, found):
    assert first_unsafe_character(value) == found


@pytest.mark.parametrize("value", ["", "plain", "tab\there", "two\nlines\r\n", "é 😀 \u202e rtl"])
def test_ordinary_text_with_tabs_and_line_breaks_passes(value):
    assert first_unsafe_character(value) is None


@pytest.mark.parametrize("value", ["tab\there", "two\nlines", "cr\r"])
def test_an_identifier_may_not_hold_tabs_or_line_breaks(value):
    assert first_unsafe_character(value, identifier=True) is not None


@pytest.mark.parametrize(
    "value",
    ["Ada Lovelace", "Ada\u00a0Lovelace", "名前\u3000テスト", "Zoë 🙂", ""],
    ids=["ascii", "no-break-space", "ideographic-space", "accents-and-emoji", "empty"],
)
def test_printable_text_holds_letters_symbols_and_spaces(value):
    assert is_printable(value)


@pytest.mark.parametrize(
    "char",
    ["\n", "\t", "\x00", "\x85", "\u200b", "\u202e", "\ue000", "\u2028", "\u2029", "\ud800"],
    ids=repr,
)
def test_controls_format_private_use_and_line_separators_are_not_printable(char):
    assert not is_printable(f"a{char}b")
