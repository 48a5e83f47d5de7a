"""Execution plans: what graphql-core's executor works out per field on every request, worked
out once per document.

For each object type a selection set meets, the plan holds its fields with everything resolving
them needs: the response key, the merged field nodes, the schema field, how to resolve it (a
plain attribute read for Strawberry's default resolver, the field's own resolver otherwise),
its arguments when they do not depend on variables, and how to complete its value (which leaf
serializer, list or not, nullable or not). Field collection itself is graphql-core's
``collect_fields``/``collect_subfields``, so ``@skip``/``@include``, fragments, type conditions
and response-key merging are exactly the interpreted path's; a plan depends on the variables
only through the directives that read them, so it is cached per tuple of those values.
"""

from __future__ import annotations

import builtins
import inspect
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    Node,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import visit
from graphql.language.visitor import Visitor
from strawberry.permission import PermissionExtension

#: How a leaf value is written: the fast paths for graphql-core's own scalars, which answer
#: exactly what their ``coerce_output_value`` would for these exact Python types.
LEAF_STRING = 1
LEAF_INT = 2
LEAF_FLOAT = 3
LEAF_BOOLEAN = 4
LEAF_OTHER = 5

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def fast_leaf(kind: int, value: Any) -> bool:
    """Whether ``value`` is written as itself by the leaf type of ``kind``."""
    value_type = type(value)
    if kind == LEAF_STRING:
        return value_type is str
    if kind == LEAF_INT:
        return value_type is int and INT_MIN <= value <= INT_MAX
    if kind == LEAF_FLOAT:
        return value_type is float and math.isfinite(value)
    if kind == LEAF_BOOLEAN:
        return value_type is bool
    return False


def _leaf_kind(named: Any) -> int:
    if named is GraphQLString or named is GraphQLID:
        # ID writes strings as themselves too (and ints as their decimal string: not fast).
        return LEAF_STRING
    if named is GraphQLInt:
        return LEAF_INT
    if named is GraphQLFloat:
        return LEAF_FLOAT
    if named is GraphQLBoolean:
        return LEAF_BOOLEAN
    return LEAF_OTHER


def _is_strawberry_is_type_of(function: Any) -> bool:
    """Strawberry's generated ``is_type_of`` (an isinstance check) never reads its info."""
    return getattr(function, "__qualname__", "").endswith("_get_is_type_of.<locals>.is_type_of")


@dataclass(slots=True)
class Completion:
    """How to complete a value of one (possibly wrapped) output type."""

    type: GraphQLOutputType
    non_null: bool
    #: The type without its non-null wrapper (the leaf or abstract type, for those).
    named: Any = None
    #: The inner completion of a list type; None otherwise.
    item: Completion | None = None
    leaf: int = 0
    object_type: GraphQLObjectType | None = None
    abstract: bool = False
    #: The Python type a leaf value of which is written as itself with no check at all.
    fast_type: builtins.type | None = None
    #: An Int leaf: a Python int within 32 bits is written as itself.
    fast_int: bool = False
    #: The object type's ``is_type_of``, and whether it reads its info argument.
    is_type_of: Callable[[Any, Any], Any] | None = None
    is_type_of_needs_info: bool = True
    #: An object type with nothing to check: a value that is there completes as the field's
    #: sub-selection, so the executor skips ``complete`` for it.
    plain: bool = False

    def concrete_type(self) -> GraphQLObjectType | None:
        """The object type of the innermost value (through lists), if it is not abstract."""
        completion = self
        while completion.item is not None:
            completion = completion.item
        return completion.object_type

    @classmethod
    def of(cls, output_type: GraphQLOutputType) -> Completion:
        non_null = is_non_null_type(output_type)
        inner: Any = output_type.of_type if isinstance(output_type, GraphQLNonNull) else output_type
        if is_list_type(inner):
            assert isinstance(inner, GraphQLList)
            return cls(output_type, non_null, inner, item=cls.of(inner.of_type))
        if is_leaf_type(inner):
            kind = _leaf_kind(inner)
            fast = str if kind == LEAF_STRING else bool if kind == LEAF_BOOLEAN else None
            return cls(
                output_type, non_null, inner, leaf=kind, fast_type=fast, fast_int=kind == LEAF_INT
            )
        if is_object_type(inner):
            is_type_of = inner.is_type_of
            return cls(
                output_type,
                non_null,
                inner,
                object_type=inner,
                is_type_of=is_type_of,
                is_type_of_needs_info=not _is_strawberry_is_type_of(is_type_of),
                plain=is_type_of is None,
            )
        if is_abstract_type(inner):
            return cls(output_type, non_null, inner, abstract=True)
        raise TypeError(f"cannot complete {output_type}")  # pragma: no cover


@dataclass(slots=True, eq=False)
class DirectResolver:
    """A Strawberry resolver called as Strawberry's own wrapper would call it, without the
    wrapper: the wrapper's per-call work (argument plumbing, the extension chain, an Info even
    when unused, an async shim) costs more than most resolvers themselves.

    Made only for what the wrapper does predictably: no exception handlers, permission
    extensions only (each permission checked synchronously, as ``PermissionExtension`` does),
    and the reserved ``self``/``root``/``parent``/``info`` parameters.
    """

    function: Callable[..., Any]
    strawberry_field: Any
    pass_self: bool
    info_parameter: str | None
    source_parameters: tuple[str, ...]
    arguments: list[Any]
    #: ``(extension, permission)`` pairs, checked in order before the resolver runs.
    permissions: tuple[tuple[Any, Any], ...]
    is_async: bool
    #: The converted arguments of the document's own (variable-free) argument values.
    converted: dict[str, Any] | None = None
    converted_from: dict[str, Any] | None = None

    def remember(self, arguments: dict[str, Any], converted: dict[str, Any]) -> None:
        self.converted_from, self.converted = arguments, dict(converted)

    @property
    def needs_info(self) -> bool:
        return bool(self.info_parameter or self.permissions or self.arguments)

    @property
    def is_plain_method(self) -> bool:
        """A synchronous method of ``self`` alone: calling it is all the wrapper would do."""
        return (
            self.pass_self
            and not self.is_async
            and not self.needs_info
            and not self.source_parameters
        )


@dataclass(slots=True, eq=False)
class FieldPlan:
    key: str
    name: str
    details: FieldDetailsList
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    definition: GraphQLField
    completion: Completion
    #: Reads the value off its parent, when that is all resolving it takes: the attribute
    #: Strawberry's default resolver reads, or a method taking only ``self``. None: call it.
    getter: Callable[[Any], Any] | None
    resolve: Callable[..., Any] | None
    #: Set when the resolver can be called directly (see ``DirectResolver``).
    direct: DirectResolver | None
    #: Arguments worked out once (no variable in them); None: work them out per call.
    static_arguments: dict[str, Any] | None
    is_typename: bool = False
    #: Sub-selections by runtime object type, collected on first use.
    children: dict[str, Selection] = field(default_factory=dict)
    #: The sub-selection of a field of one object type (no abstract type in between).
    child: Selection | None = None


@dataclass(slots=True, eq=False)
class Selection:
    type: GraphQLObjectType
    fields: list[FieldPlan]


class Unsupported(Exception):
    """The document uses something the compiled path does not do; the interpreted one will.

    ``reason`` is one of a few fixed phrases: it labels a metric.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _uses_variables(nodes: list[FieldNode]) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, node: VariableNode, *_args: Any) -> None:
            nonlocal found
            found = True

    for node in nodes:
        for argument in node.arguments or ():
            visit(argument, Finder())
    return found


def _is_default_resolver(definition: GraphQLField) -> str | None:
    """The attribute Strawberry's default resolver reads for this field, if it has no other."""
    resolve = definition.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    default_resolver = getattr(strawberry_field, "default_resolver", None)
    if strawberry_field is None or default_resolver is not getattr:
        return None  # a configured default resolver: call it like any resolver
    name: str = strawberry_field.python_name
    return name


class OperationPlan:
    """One operation of one validated document, compiled for one schema."""

    def __init__(
        self,
        strawberry: Any,
        operation: OperationDefinitionNode,
        fragment_definitions: Mapping[str, FragmentDefinitionNode],
        *,
        hide_suggestions: bool,
    ) -> None:
        """``strawberry`` is the Strawberry schema (its config, scalars and handlers)."""
        schema: GraphQLSchema = strawberry._schema
        if operation.operation is not OperationType.QUERY:
            # Mutations run their root fields one after the other; subscriptions are streams.
            raise Unsupported(operation.operation.value)
        if any(node.variable_definitions for node in fragment_definitions.values()):
            raise Unsupported("fragment variables")
        self.schema = schema
        self.operation = operation
        self.fragment_definitions = dict(fragment_definitions)
        self.fragments = {
            name: FragmentDetails(definition) for name, definition in fragment_definitions.items()
        }
        self.hide_suggestions = hide_suggestions
        self.strawberry = strawberry
        #: Whether the Strawberry schema has exception handlers: then every resolver goes
        #: through Strawberry's wrapper, which applies them.
        self.exception_handlers = bool(
            getattr(strawberry.schema_converter, "_exception_handler_specs", None)
        )
        root = schema.get_root_type(operation.operation)
        if root is None:
            raise Unsupported("no root type")
        self.root_type = root
        self.directive_variables = _directive_variables(operation, fragment_definitions)
        self._roots: dict[tuple[Any, ...], Selection] = {}

    def variant(self, variables: VariableValues) -> tuple[Any, ...]:
        """The values of the variables ``@skip``/``@include`` read: the plan depends on these."""
        coerced = variables.coerced
        return tuple(coerced.get(name) for name in self.directive_variables)

    def root(self, variables: VariableValues) -> Selection:
        key = self.variant(variables)
        selection = self._roots.get(key)
        if selection is None:
            grouped, _, _ = collect_fields(
                self.schema,
                self.fragments,
                variables,
                self.root_type,
                self.operation,
                self.hide_suggestions,
            )
            selection = self._roots[key] = self._selection(self.root_type, grouped, variables)
        return selection

    def children(
        self, plan: FieldPlan, runtime_type: GraphQLObjectType, variables: VariableValues
    ) -> Selection:
        """The sub-selection of ``plan`` for ``runtime_type``; cached on the plan, which is itself
        specific to the directive variables' values."""
        selection = plan.children.get(runtime_type.name)
        if selection is None:
            grouped, _, _ = collect_subfields(
                self.schema,
                self.fragments,
                variables,
                self.operation,
                runtime_type,
                plan.details,
                self.hide_suggestions,
            )
            selection = plan.children[runtime_type.name] = self._selection(
                runtime_type, grouped, variables
            )
            if runtime_type is plan.completion.concrete_type():
                plan.child = selection
        return selection

    def _direct(self, definition: GraphQLField) -> DirectResolver | None:
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        resolver = getattr(strawberry_field, "base_resolver", None)
        if strawberry_field is None or resolver is None or self.exception_handlers:
            return None
        permissions: list[tuple[Any, Any]] = []
        for extension in strawberry_field.extensions:
            if type(extension) is not PermissionExtension or extension.fail_silently:
                return None
            for permission in extension.permissions:
                if inspect.iscoroutinefunction(permission.has_permission):
                    return None
                permissions.append((extension, permission))
        if resolver.is_async and inspect.isasyncgenfunction(resolver._unbound_wrapped_func):
            return None
        info = resolver.info_parameter
        return DirectResolver(
            function=resolver.wrapped_func,
            strawberry_field=strawberry_field,
            pass_self=resolver.self_parameter is not None,
            info_parameter=info.name if info is not None else None,
            source_parameters=tuple(
                parameter.name
                for parameter in (resolver.parent_parameter, resolver.root_parameter)
                if parameter is not None
            ),
            arguments=list(strawberry_field.arguments),
            permissions=tuple(permissions),
            is_async=resolver.is_async,
        )

    def _selection(
        self,
        parent_type: GraphQLObjectType,
        grouped: Mapping[str, FieldDetailsList],
        variables: VariableValues,
    ) -> Selection:
        fields: list[FieldPlan] = []
        for key, details in grouped.items():
            if any(detail.defer_usage is not None for detail in details):
                raise Unsupported("@defer")
            first: FieldNode = details[0].node
            name = first.name.value
            if name in ("__schema", "__type"):
                raise Unsupported("introspection")
            definition = self.schema.get_field(parent_type, name)
            if definition is None:
                continue  # graphql-core skips fields the type does not have
            nodes = [detail.node for detail in details]
            attribute = None if name == "__typename" else _is_default_resolver(definition)
            direct = (
                None if attribute is not None or name == "__typename" else self._direct(definition)
            )
            getter: Callable[[Any], Any] | None = (
                operator.attrgetter(attribute) if attribute is not None else None
            )
            if direct is not None and direct.is_plain_method:
                getter = direct.function
            static = None
            if getter is None and not _uses_variables(nodes[:1]):
                static = _static_arguments(definition, first, variables, self.hide_suggestions)
            fields.append(
                FieldPlan(
                    key=key,
                    name=name,
                    details=details,
                    nodes=nodes,
                    parent_type=parent_type,
                    definition=definition,
                    completion=Completion.of(definition.type),
                    getter=getter,
                    resolve=definition.resolve,
                    direct=direct,
                    static_arguments=static,
                    is_typename=name == "__typename",
                )
            )
        return Selection(parent_type, fields)


def _static_arguments(
    definition: GraphQLField, node: FieldNode, variables: VariableValues, hide_suggestions: bool
) -> dict[str, Any] | None:
    if not (definition.args or node.arguments):
        return {}
    try:
        return get_argument_values(definition, node, variables, None, hide_suggestions)
    except Exception:
        return None


def _directive_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Variables read by ``@skip``/``@include`` anywhere in the operation or its fragments."""
    names: dict[str, None] = {}

    class Finder(Visitor):
        def enter_directive(self, node: Any, *_args: Any) -> None:
            if node.name.value not in ("skip", "include"):
                return
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names[argument.value.name.value] = None

    roots: list[Node] = [operation, *fragments.values()]
    for root in roots:
        visit(root, Finder())
    return tuple(names)


__all__ = [
    "INT_MAX",
    "INT_MIN",
    "LEAF_BOOLEAN",
    "LEAF_FLOAT",
    "LEAF_INT",
    "LEAF_OTHER",
    "LEAF_STRING",
    "Completion",
    "FieldDetails",
    "FieldPlan",
    "OperationPlan",
    "Selection",
    "Unsupported",
    "fast_leaf",
]
