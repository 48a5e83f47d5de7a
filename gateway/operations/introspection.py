"""Introspection answered from the caller's view of the schema (``schema.visibility``).

An operation that selects ``__schema`` or ``__type`` is validated and executed against the view
of the schema the caller's scopes allow, never against the full schema; so it must be an
operation of its own (``__typename`` aside), or data fields would be answered from the view too.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql import DocumentNode, ExecutionResult, execute, validate

from auth.principal import Principal
from contract.errors import ErrorCode
from gateway.operations.analysis import INTROSPECTION_ROOTS, OperationAnalysis
from gateway.operations.documents import as_validation_error
from gateway.operations.refusal import Refused
from schema import ManifoldSchema
from schema.visibility import ScopedSchemas

_ALLOWED_BESIDE = INTROSPECTION_ROOTS | {"__typename"}


class ScopedIntrospection:
    def __init__(self, schema: ManifoldSchema, *, max_errors: int) -> None:
        self.rules = schema.validation_rules
        self.max_errors = max_errors
        self.hide_suggestions = not schema.suggestions
        self.views = ScopedSchemas(schema._schema)

    async def answer(
        self,
        document: DocumentNode,
        operation: OperationAnalysis,
        *,
        caller: Principal,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        """The answer from the caller's view; ``Refused`` when the document is not valid there."""
        if operation.root_fields - _ALLOWED_BESIDE:
            raise Refused.because(
                400,
                ErrorCode.GRAPHQL_VALIDATION_FAILED,
                "Send introspection as an operation of its own.",
            )
        view = self.views.for_caller(caller.satisfies)
        errors = [
            as_validation_error(error)
            for error in validate(
                view,
                document,
                self.rules,
                max_errors=self.max_errors,
                hide_suggestions=self.hide_suggestions,
            )
        ]
        if errors:
            raise Refused(400, errors)
        executed = execute(view, document, variable_values=variables, operation_name=operation_name)
        if inspect.isawaitable(executed):
            executed = await executed
        assert isinstance(executed, ExecutionResult)
        return executed
