"""Which strings the gateway accepts as text from a caller, wherever they arrive.

PostgreSQL refuses NUL in ``text`` and ``varchar`` values, and no encoding can carry an unpaired
UTF-16 surrogate (JSON and GraphQL escapes like ``"\\ud800"`` can still produce one), so such a
string reaching a query is a database error: a 500 for the caller and a failed transaction.
Other control characters are stored fine but are never meant: in a name, an owner or a claim
they garble logs and displays, and they are a favourite of log-injection attacks. Tab and the
line breaks are ordinary text, except in an identifier (a token's subject), which is one line.

One rule for every boundary (GraphQL arguments, variables and input fields, token claims), so
an input is refused the same way whatever door it came through, before anything is written.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["RULE", "first_unsafe_character", "is_printable"]

#: C0 controls except tab, LF and CR; DEL and the C1 controls; the surrogate code points.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, tab and line breaks included.
_UNSAFE_IN_IDENTIFIER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

#: What a refusal tells the caller, after naming where the character was.
RULE = (
    "text may not contain NUL, control characters other than tab and line breaks, "
    "or unpaired surrogates"
)


def first_unsafe_character(value: str, *, identifier: bool = False) -> str | None:
    """The first character of ``value`` the rule refuses, as ``U+0000``; None if it has none.

    An ``identifier`` may not hold tab or line breaks either."""
    match = (_UNSAFE_IN_IDENTIFIER if identifier else _UNSAFE).search(value)
    return None if match is None else f"U+{ord(match.group()):04X}"


#: Unicode categories a one-line display text (a name, a reason) may not hold: every "other"
#: (controls, format characters, surrogates, private-use and unassigned code points) and the
#: line and paragraph separators (U+2028, U+2029), which break a line as a newline does.
#: Spaces (Zs) are ordinary text.
_NON_PRINTING_CATEGORIES = ("C", "Zl", "Zp")


def is_printable(value: str) -> bool:
    """Whether every character of ``value`` prints on one line (spaces included)."""
    return not any(
        unicodedata.category(char).startswith(_NON_PRINTING_CATEGORIES) for char in value
    )
