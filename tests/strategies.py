"""Hypothesis strategies for what an attacker (or a buggy client) may send: any JSON, hostile
text, GraphQL documents, headers and tokens.

Shared by the pure property tests (a validator on its own) and the ones against the real app.
How many examples each runs is one setting for the whole suite (``examples``): a bounded,
derandomized number in CI, more on demand with ``GATEWAY_TEST_HYPOTHESIS_EXAMPLES``.
"""

from __future__ import annotations

import os
import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per property test; CI runs the default, a soak sets the variable higher.
EXAMPLES = int(os.environ.get("GATEWAY_TEST_HYPOTHESIS_EXAMPLES", "150"))


def examples(count: int | None = None) -> settings:
    """The suite's Hypothesis settings: reproducible (derandomized, no example database
    written to the working tree), no per-example deadline (the app crosses real sockets)."""
    return settings(
        max_examples=count or EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


#: Characters that break naive handling: NUL and other controls, a lone surrogate, quotes,
#: backslashes, braces, non-BMP and right-to-left text.
HOSTILE_CHARACTERS = "\x00\x01\x1b\x7f\x85\u2028\ud800\udfff\"'\\{}$@#%\n\t\r \u202e😀é"

#: Text where about every other character is one of the hostile ones (``st.text`` would merge
#: the alphabets into one set and draw a NUL once in hundreds of strings).
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_CHARACTERS), st.characters()), max_size=40
).map("".join)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**400, -(10**400)]),  # beyond any float: NumericDates, limits
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)

#: Any JSON value (NaN and infinities excluded: a JSON encoder cannot write them).
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(hostile_text, children, max_size=4),
    ),
    max_leaves=12,
)

#: Names of GraphQL fields and arguments the schema has, and some it has not.
_NAMES = st.sampled_from(
    [
        "me",
        "node",
        "nodes",
        "user",
        "users",
        "order",
        "orders",
        "content",
        "contents",
        "recommendations",
        "apiKeys",
        "createApiKey",
        "revokeApiKey",
        "rateLimit",
        "id",
        "name",
        "email",
        "slug",
        "tag",
        "first",
        "after",
        "ids",
        "input",
        "edges",
        "__typename",
        "__schema",
        "__type",
        "_entities",
        "_service",
        "shoeSize",
    ]
)

_GRAPHQL_PUNCTUATION = st.sampled_from(
    ["{", "}", "(", ")", ":", "$", "!", "...", "@", "[", "]", "=", ",", '"', '"""', "#", "\\"]
)


def _string_literal(text: str) -> str:
    """A GraphQL string literal for ``text``, control characters as ``\\uXXXX`` escapes."""
    escaped = []
    for character in text:
        if character in '"\\':
            escaped.append("\\" + character)
        elif ord(character) < 0x20 or 0xD800 <= ord(character) <= 0xDFFF:
            escaped.append(f"\\u{ord(character):04x}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


_literals = st.one_of(
    hostile_text.map(_string_literal),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.sampled_from(["true", "false", "null", "ARTICLE", "[]", "{}", "$v", "1.5e400"]),
)


@st.composite
def _fields(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(_NAMES)
    arguments = draw(st.lists(st.tuples(_NAMES, _literals), max_size=2))
    text = name
    if arguments:
        text += "(" + ", ".join(f"{key}: {value}" for key, value in arguments) + ")"
    if depth < 3 and draw(st.booleans()):
        children = draw(st.lists(_fields(depth + 1), min_size=1, max_size=3))
        text += " { " + " ".join(children) + " }"
    return text


_well_shaped_documents = st.builds(
    lambda keyword, fields: f"{keyword} {{ {' '.join(fields)} }}",
    st.sampled_from(["", "query", "query Q($v: String)", "mutation", "subscription"]),
    st.lists(_fields(), min_size=1, max_size=3),
)

_token_soup = st.lists(st.one_of(_NAMES, _GRAPHQL_PUNCTUATION, _literals), max_size=30).map(
    " ".join
)

#: Documents: mostly well-shaped ones (so they reach validation, coercion and execution), some
#: token soup, some arbitrary text.
documents = st.one_of(_well_shaped_documents, _well_shaped_documents, _token_soup, hostile_text)

#: Values a header may carry on the wire (visible ASCII and spaces; h11 refuses the rest).
header_values = st.text(
    alphabet=string.ascii_letters + string.digits + " -_.~+/=:;,\"'", max_size=60
)
