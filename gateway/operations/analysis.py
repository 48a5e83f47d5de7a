"""What the pipeline needs to know about a document, computed once when it is first parsed.

Shape limits, cost, introspection routing and operation selection all look at the same things:
the fragments by name, the operations by name, the fields each operation selects at its root
and how deep, aliased and directive-laden it is. One walk per cached document answers all of
them, so a document seen before costs a dictionary lookup, not three tree walks.

Fragments are expanded while measuring (an alias inside a fragment spread twice counts twice),
with each fragment measured once (memoized) so a fragment bomb cannot make the measurement
itself expensive, and a cycle (which validation rejects later) cannot make it loop.
Introspection subtrees (``__schema``, ``__type``) are exempt from the depth limit, as in
graphql-armor: the standard introspection query is deep by nature, and is answered from memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Shape:
    """How big an operation is, per measure the shape limits bound."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    root_fields: int = 0

    def worst(self, other: Shape) -> Shape:
        return Shape(
            depth=max(self.depth, other.depth),
            aliases=max(self.aliases, other.aliases),
            directives=max(self.directives, other.directives),
            root_fields=max(self.root_fields, other.root_fields),
        )


@dataclass(frozen=True, slots=True)
class OperationAnalysis:
    node: OperationDefinitionNode
    #: Names selected at the root, through fragments (``__typename`` included).
    root_fields: frozenset[str]
    shape: Shape
    #: ``(response key, field name)`` of every root selection: ``a: placeOrder`` and
    #: ``b: placeOrder`` are two executions of one field.
    root_selections: frozenset[tuple[str, str]] = frozenset()

    def executions_of(self, names: frozenset[str]) -> int:
        """How many root selections run one of the fields ``names`` (one per response key)."""
        return sum(1 for _, name in self.root_selections if name in names)

    @property
    def kind(self) -> OperationType:
        return self.node.operation

    @property
    def asks_introspection(self) -> bool:
        return not self.root_fields.isdisjoint(INTROSPECTION_ROOTS)


@dataclass(frozen=True, slots=True)
class DocumentAnalysis:
    document: DocumentNode
    fragments: Mapping[str, FragmentDefinitionNode]
    operations: tuple[OperationAnalysis, ...]
    #: The worst operation of the document, per measure: what the shape limits check, so a
    #: document cannot smuggle a huge operation past them behind a small selected one.
    shape: Shape

    def operation(self, name: str | None) -> OperationAnalysis | None:
        """The operation a request selects, as graphql-core's ``get_operation_ast`` picks it:
        by name, or the only one when no name is given."""
        if name is None:
            return self.operations[0] if len(self.operations) == 1 else None
        return next(
            (
                op
                for op in self.operations
                if op.node.name is not None and op.node.name.value == name
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class _Stats:
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    fields: int = 0  # fields at this level, through fragments: the root-field count


class _Measurer:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
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


def _root_selections(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> frozenset[tuple[str, str]]:
    """``(response key, name)`` selected at the root, through inline fragments and each named
    fragment once (selections of one response key merge into one execution)."""
    names: set[tuple[str, str]] = set()
    seen: set[str] = set()
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                names.add((selection.alias.value if selection.alias else name, name))
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return frozenset(names)


def analyse(document: DocumentNode) -> DocumentAnalysis:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    measurer = _Measurer(fragments)
    operations: list[OperationAnalysis] = []
    worst = Shape()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        stats = measurer.selection_set(definition.selection_set)
        own_directives = len(definition.directives or ()) + sum(
            len(variable.directives or ()) for variable in definition.variable_definitions or ()
        )
        shape = Shape(
            depth=stats.depth,
            aliases=stats.aliases,
            directives=stats.directives + own_directives,
            root_fields=stats.fields,
        )
        worst = worst.worst(shape)
        selections = _root_selections(definition.selection_set, fragments)
        operations.append(
            OperationAnalysis(
                definition,
                frozenset(name for _, name in selections),
                shape,
                root_selections=selections,
            )
        )
    return DocumentAnalysis(document, fragments, tuple(operations), worst)
