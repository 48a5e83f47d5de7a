"""Introspection answered from the caller's view of the schema (``schema.visibility``).

An operation that selects ``__schema`` or ``__type`` is validated and executed against the view
of the schema the caller's scopes allow, never against the full schema; so it must be an
operation of its own (``__typename`` aside), or data fields would be answered from the view too.
"""

from __future__ import annotations

import inspect

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    validate,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from auth.principal import Principal
from gateway.errors import ErrorCode
from gateway.limits import INTROSPECTION_ROOTS
from gateway.settings import Settings
from schema import ManifoldSchema
from schema.prepared import STRAWBERRY_RULES
from schema.visibility import ScopedSchemas

_ALLOWED_BESIDE = INTROSPECTION_ROOTS | {"__typename"}


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> set[str]:
    """Names selected at the root, through fragments."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set)

    walk(operation.selection_set)
    return names


class IntrospectionRefused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


class ScopedIntrospection:
    def __init__(self, *, settings: Settings, schema: ManifoldSchema) -> None:
        self.settings = settings
        self.rules = (*schema.validation_rules, *STRAWBERRY_RULES)
        self.views = ScopedSchemas(schema._schema)

    @staticmethod
    def asks(roots: set[str]) -> bool:
        return bool(roots & INTROSPECTION_ROOTS)

    async def answer(
        self,
        document: DocumentNode,
        *,
        roots: set[str],
        caller: Principal,
        variables: dict[str, object] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        if roots - _ALLOWED_BESIDE:
            raise IntrospectionRefused(
                GraphQLError(
                    "Send introspection as an operation of its own.",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
            )
        view = self.views.for_caller(caller.satisfies)
        errors = validate(
            view,
            document,
            self.rules,
            max_errors=self.settings.max_validation_errors,
            hide_suggestions=not self.settings.field_suggestions_enabled,
        )
        if errors:
            return PreExecutionError(data=None, errors=errors)
        executed = execute(view, document, variable_values=variables, operation_name=operation_name)
        if inspect.isawaitable(executed):
            executed = await executed
        assert isinstance(executed, GraphQLExecutionResult)
        return ExecutionResult(data=executed.data, errors=executed.errors)
