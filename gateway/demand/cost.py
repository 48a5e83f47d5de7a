"""The static cost of an operation, computed from its document and the schema before execution.

The model (documented for partners in the README):

* a field whose type is an object, interface or union (or a list of them) costs 1, plus its
  selections' cost times the field's multiplier; scalar and enum fields cost 0;
* the multiplier of a field with a ``first`` argument is that argument's value (a literal or a
  variable), else the argument's schema default, else ``default_first``; of a field with an
  ``ids`` list argument (``representations`` for a federation subgraph's ``_entities``) it is
  the list's length; otherwise 1;
* fragments and inline fragments add their selections' cost (an upper bound for abstract types:
  every type condition is counted); each spread of a named fragment adds its cost again;
* a mutation adds ``mutation_base`` to its selections' cost; introspection fields (``__schema``,
  ``__type``) and fields returning a type in ``free_types`` cost nothing.

It is driven only by argument names and return types, so new fields are priced without being
listed anywhere.

Pricing must stay cheap whatever the document, since it runs before the document is refused:
a named fragment's cost does not depend on where it is spread (multipliers apply outside it),
so it is computed once per document and reused at every spread — otherwise fragments spreading
fragments ten times each take time exponential in their depth. With a ``ceiling`` the walk also
stops as soon as the running total passes it: every partial sum is a lower bound of the total
(multipliers are at least 1; a zero multiplier skips its selections), so the answer is already
known to be "too expensive".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal

from gateway.operations.analysis import analyse

__all__ = ["CostModel", "operation_cost", "price"]

FIRST_ARGUMENT = "first"
IDS_ARGUMENT = "ids"
#: List arguments whose length is the number of objects a field returns.
LIST_ARGUMENTS = (IDS_ARGUMENT, "representations")


@dataclass(frozen=True, slots=True)
class CostModel:
    default_first: int = 20
    #: The most items a list field returns (`first` and `ids` are refused above it), so a
    #: larger argument is priced as what it could ever fetch, not as the number asked for.
    max_items: int = 100
    mutation_base: int = 10
    free_types: frozenset[str] = field(default_factory=frozenset)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    model: CostModel | None = None,
    ceiling: int | None = None,
) -> int:
    """The cost of the operation ``operation_name`` selects (0 when it names none), with raw
    ``variables`` as a client sends them.

    With ``ceiling``, a cost above it may be returned as soon as it is known to be above it:
    the value is then a lower bound of the true cost, still greater than ``ceiling``.
    """
    analysis = analyse(document)
    operation = analysis.operation(operation_name)
    if operation is None:
        return 0
    coerced = get_variable_values(
        schema, operation.node.variable_definitions or (), dict(variables or {})
    )
    return price(
        schema,
        operation.node,
        analysis.fragments,
        # Variables that do not coerce are refused before execution anyway; the estimate then
        # falls back to argument defaults.
        None if isinstance(coerced, list) else coerced,
        model=model,
        ceiling=ceiling,
    )


def price(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues | None,
    *,
    model: CostModel | None = None,
    ceiling: int | None = None,
) -> int:
    """The cost of one operation of an analysed document, with its coerced variables: what the
    pipeline calls, having parsed, analysed and coerced already."""
    model = model or CostModel()
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walker = _Walker(schema, fragments, variables, model, ceiling)
    try:
        cost = walker.selection_set(operation.selection_set, root)
    except _OverCeiling as over:
        return over.partial
    if operation.operation is OperationType.MUTATION:
        cost += model.mutation_base
    return cost


class _OverCeiling(Exception):
    """Unwinds the walk once a partial sum exceeds the ceiling."""

    def __init__(self, partial: int) -> None:
        super().__init__(partial)
        self.partial = partial


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,
        model: CostModel,
        ceiling: int | None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.model = model
        self.ceiling = ceiling
        self.fragment_costs: dict[str, int] = {}
        self.in_progress: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    parent
                    if selection.type_condition is None
                    else self.schema.get_type(selection.type_condition.name.value)
                )
                if condition is not None:
                    total += self.selection_set(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            if self.ceiling is not None and total > self.ceiling:
                raise _OverCeiling(total)
        return total

    def fragment(self, name: str) -> int:
        """Computed once per document; a cycle (which validation refuses anyway) costs 0."""
        known = self.fragment_costs.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return 0
        condition = self.schema.get_type(definition.type_condition.name.value)
        self.in_progress.add(name)
        try:
            cost = (
                0 if condition is None else self.selection_set(definition.selection_set, condition)
            )
        finally:
            self.in_progress.discard(name)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if not is_composite_type(named) or named.name in self.model.free_types:
            return 0
        if node.selection_set is None:
            return 1
        multiplier = self.multiplier(node, definition)
        if multiplier == 0:  # e.g. nodes(ids: []): its selections are never resolved
            return 1
        return 1 + multiplier * self.selection_set(node.selection_set, named)

    def multiplier(self, node: FieldNode, definition: GraphQLField) -> int:
        if FIRST_ARGUMENT in definition.args:
            value = self.argument(node, definition, FIRST_ARGUMENT)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return min(value, self.model.max_items)
            return self.model.default_first
        for name in LIST_ARGUMENTS:
            listed = definition.args.get(name)
            if listed is not None and is_list_type(get_nullable_type(listed.type)):
                value = self.argument(node, definition, name)
                return min(len(value), self.model.max_items) if isinstance(value, list) else 1
        return 1

    def argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        argument = definition.args[name]
        supplied = next((arg for arg in node.arguments or () if arg.name.value == name), None)
        if supplied is not None:
            value = coerce_input_literal(supplied.value, argument.type, self.variables)
            if value is not Undefined:
                return value
        default = coerce_default_value(argument)
        return None if default is Undefined else default
