"""Static limits on a document's shape, checked before anything executes.

A public GraphQL endpoint is attacked with its own language: nesting, alias floods, directive
floods and huge documents cost the server far more than the client. These checks run on the
parsed document (the token limit while parsing: graphql-core's ``parse(max_tokens=…)`` aborts as
soon as the limit is passed), before authentication, validation or any resolver, so a rejected
request costs no SQL statement and no upstream call.

Fragments are expanded while measuring (an alias inside a fragment spread twice counts twice),
with each fragment measured once (memoized) so a fragment bomb cannot make the measurement itself
expensive, and a cycle (which validation rejects later) cannot make it loop. Introspection
subtrees (``__schema``, ``__type``) are exempt from the depth limit, as in graphql-armor: the
standard introspection query is deep by nature, and is answered from memory.

``measure`` mode logs violations without rejecting, to roll out a tighter limit safely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from gateway.errors import ErrorCode
from gateway.settings import LimitsMode, Settings

logger = logging.getLogger("manifold.limits")

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_directives: int
    max_root_fields: int
    mode: LimitsMode = LimitsMode.ENFORCE

    @classmethod
    def from_settings(cls, settings: Settings) -> ShapeLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_directives=settings.max_directives,
            max_root_fields=settings.max_root_fields,
            mode=settings.limits_mode,
        )

    @property
    def enforcing(self) -> bool:
        return self.mode is LimitsMode.ENFORCE


@dataclass(frozen=True, slots=True)
class Violation:
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Shape:
    """The worst operation of a document, per measure."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    root_fields: int = 0


@dataclass(frozen=True, slots=True)
class _Stats:
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    fields: int = 0  # fields at this level, through fragments: the root-field count


class _Measurer:
    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._memo: dict[str, _Stats] = {}
        self._in_progress: set[str] = set()

    def fragment(self, name: str) -> _Stats:
        if name in self._memo:
            return self._memo[name]
        definition = self._fragments.get(name)
        if definition is None or name in self._in_progress:
            return _Stats()  # unknown or cyclic: validation reports it
        self._in_progress.add(name)
        stats = self.selection_set(definition.selection_set)
        stats = _Stats(
            stats.depth,
            stats.aliases,
            stats.directives + len(definition.directives or ()),
            stats.fields,
        )
        self._in_progress.discard(name)
        self._memo[name] = stats
        return stats

    def selection_set(self, selection_set: SelectionSetNode) -> _Stats:
        depth = aliases = directives = fields = 0
        for selection in selection_set.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                fields += 1
                if selection.alias is not None:
                    aliases += 1
                child = (
                    self.selection_set(selection.selection_set)
                    if selection.selection_set is not None
                    else _Stats()
                )
                if selection.name.value not in INTROSPECTION_ROOTS:
                    depth = max(depth, 1 + child.depth)
                aliases += child.aliases
                directives += child.directives
            else:
                child = (
                    self.selection_set(selection.selection_set)
                    if isinstance(selection, InlineFragmentNode)
                    else self.fragment(selection.name.value)
                    if isinstance(selection, FragmentSpreadNode)
                    else _Stats()
                )
                depth = max(depth, child.depth)
                aliases += child.aliases
                directives += child.directives
                fields += child.fields
        return _Stats(depth, aliases, directives, fields)


def measure(document: DocumentNode) -> Shape:
    measurer = _Measurer(document)
    shape = Shape()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        stats = measurer.selection_set(definition.selection_set)
        own_directives = len(definition.directives or ()) + sum(
            len(variable.directives or ()) for variable in definition.variable_definitions or ()
        )
        shape = Shape(
            depth=max(shape.depth, stats.depth),
            aliases=max(shape.aliases, stats.aliases),
            directives=max(shape.directives, stats.directives + own_directives),
            root_fields=max(shape.root_fields, stats.fields),
        )
    return shape


def violations(shape: Shape, limits: ShapeLimits) -> list[Violation]:
    found: list[Violation] = []
    if shape.depth > limits.max_depth:
        found.append(
            Violation(
                ErrorCode.MAX_DEPTH_LIMIT,
                f"Query depth {shape.depth} exceeds the maximum of {limits.max_depth}.",
            )
        )
    if shape.aliases > limits.max_aliases:
        found.append(
            Violation(
                ErrorCode.MAX_ALIASES_LIMIT,
                f"Query uses {shape.aliases} aliases; the maximum is {limits.max_aliases}.",
            )
        )
    if shape.directives > limits.max_directives:
        found.append(
            Violation(
                ErrorCode.MAX_DIRECTIVES_LIMIT,
                f"Query uses {shape.directives} directives; the maximum is "
                f"{limits.max_directives}.",
            )
        )
    if shape.root_fields > limits.max_root_fields:
        found.append(
            Violation(
                ErrorCode.MAX_ROOT_FIELDS_LIMIT,
                f"Operation selects {shape.root_fields} root fields; the maximum is "
                f"{limits.max_root_fields}.",
            )
        )
    return found


def is_token_limit_error(error: GraphQLSyntaxError) -> bool:
    return "tokens. Parsing aborted." in error.message


def parse_limited(query: str, limits: ShapeLimits) -> tuple[DocumentNode, bool]:
    """Parse, aborting early past the token limit (``GraphQLSyntaxError``); in measure mode a
    document over the limit is parsed in full and flagged, so ``check`` logs it every time."""
    try:
        return parse(query, max_tokens=limits.max_tokens), False
    except GraphQLSyntaxError as error:
        if limits.enforcing or not is_token_limit_error(error):
            raise
        return parse(query), True


def check(
    document: DocumentNode, limits: ShapeLimits, *, over_tokens: bool = False
) -> list[Violation]:
    """The violations to reject with (empty in measure mode, where they are only logged)."""
    found = violations(measure(document), limits)
    if over_tokens:
        found.append(
            Violation(
                ErrorCode.MAX_TOKENS_LIMIT,
                f"Document contains more than {limits.max_tokens} tokens.",
            )
        )
    if found and not limits.enforcing:
        for violation in found:
            logger.warning("limit measured (%s): %s", violation.code, violation.message)
        return []
    return found
