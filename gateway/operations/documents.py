"""Parsed documents, cached by their text, with everything the pipeline learns about them.

A client sends the same few documents again and again, so parsing (with the token limit), the
analysis (``analysis``) and validation happen once per distinct text: the entry keeps all three,
and a document seen before costs one dictionary lookup. The cache is bounded, so a stream of
unique junk cannot grow memory, and a document that fails to parse is not kept at all.

Validation is cached on the entry rather than in a cache keyed by the document, because hashing
a graphql-core AST walks the whole tree.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate

from contract.errors import ErrorCode
from gateway.operations import limits
from gateway.operations.analysis import DocumentAnalysis, analyse
from gateway.operations.input_text import literal_problems

#: Documents kept after parsing; bounded so unique junk cannot grow memory.
DOCUMENT_CACHE_SIZE = 1024


class Document:
    """One parsed document: its analysis, and its validation once someone asked for it."""

    __slots__ = ("_errors", "_text_problems", "analysis", "over_tokens", "plans")

    def __init__(self, analysis: DocumentAnalysis, *, over_tokens: bool = False) -> None:
        self.analysis = analysis
        #: Parsed past the token limit in measure mode: the limit check logs it every time.
        self.over_tokens = over_tokens
        self._errors: list[GraphQLError] | None = None
        self._text_problems: tuple[GraphQLError, ...] | None = None
        #: Compiled execution plans by operation name (or why an operation has none).
        self.plans: dict[str | None, Any] = {}

    @property
    def node(self) -> DocumentNode:
        return self.analysis.document

    def validated(self, validator: Validator) -> list[GraphQLError]:
        if self._errors is None:
            self._errors = validator(self.node)
        return self._errors

    def text_problems(self) -> tuple[GraphQLError, ...]:
        """String literals holding characters the input text rule refuses, found once."""
        if self._text_problems is None:
            self._text_problems = literal_problems(self.node)
        return self._text_problems


class Validator:
    """Validation against one schema with its rules, its error cap and its suggestion policy."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]],
        *,
        max_errors: int,
        suggestions: bool,
    ) -> None:
        self.schema = schema
        self.rules = tuple(rules)
        self.max_errors = max_errors
        self.hide_suggestions = not suggestions

    def __call__(self, document: DocumentNode) -> list[GraphQLError]:
        errors = validate(
            self.schema,
            document,
            self.rules,
            max_errors=self.max_errors,
            hide_suggestions=self.hide_suggestions,
        )
        return [as_validation_error(error) for error in errors]


#: Longer messages are cut: one quoting a literal quotes all of it, however long.
MAX_VALIDATION_MESSAGE = 300


def as_validation_error(error: GraphQLError) -> GraphQLError:
    """A validation error is the document's fault whatever raised it.

    A rule that checks a literal against its type reports the exception the type's parser
    raised (an ``int()`` of more than 4,300 digits raises ``ValueError``; so may a custom
    scalar), and error masking would take that original for a crash and answer 500
    ``INTERNAL_SERVER_ERROR``. Such errors keep their message, cut to a readable length, and
    lose the original."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    message = error.message
    if len(message) > MAX_VALIDATION_MESSAGE:
        message = message[: MAX_VALIDATION_MESSAGE - 1] + "…"
    return GraphQLError(
        message,
        nodes=error.nodes,
        extensions={**(error.extensions or {}), "code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
    )


class DocumentCache:
    def __init__(
        self, shape_limits: limits.ShapeLimits, *, size: int = DOCUMENT_CACHE_SIZE
    ) -> None:
        self._limits = shape_limits
        self._size = size
        self._entries: OrderedDict[str, Document] = OrderedDict()

    def parse(self, query: str) -> Document:
        """The document for ``query``; raises ``GraphQLSyntaxError`` (the token limit included)."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        node, over_tokens = limits.parse_limited(query, self._limits)
        entry = Document(analyse(node), over_tokens=over_tokens)
        self._entries[query] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry
