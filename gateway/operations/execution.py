"""Executing a prepared operation with graphql-core, as Strawberry's resolvers expect.

The pipeline has already parsed, validated, priced and authorized the document, so it calls
graphql-core's executor directly with Strawberry's executor class (which hands resolvers their
``strawberry.Info``) instead of going through ``Schema.execute``, whose extension runner would
parse, validate and wrap the result again. Field permissions are field extensions compiled into
the resolvers, so they run exactly as under ``Schema.execute``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from graphql import DocumentNode, ExecutionResult
from graphql.execution import execute
from strawberry.execution import optimized_is_awaitable

from schema import ManifoldSchema
from schema.context import Context

#: Strawberry's faster check (primitives first), typed as graphql-core's parameter wants it.
is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = optimized_is_awaitable  # type: ignore[assignment]


async def execute_operation(
    schema: ManifoldSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    context: Context,
    operation_extensions: dict[str, Any] | None = None,
    root_value: Any = None,
) -> ExecutionResult:
    """Execute ``document``; a subscription's event executes with the event as ``root_value``."""
    result = execute(
        schema._schema,
        document,
        root_value=root_value,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
        is_awaitable=is_awaitable,
        hide_suggestions=not schema.suggestions,
        operation_extensions=operation_extensions,
    )
    if isinstance(result, ExecutionResult):
        return result
    awaited: ExecutionResult = await result
    return awaited
