"""Prices each operation before it runs and charges the caller's budget, or refuses it.

A schema extension rather than HTTP middleware, because the cost needs the parsed and validated
document. In ``on_execute`` it sets the execution result itself when the operation is refused,
which makes Strawberry skip execution entirely: a refused operation touches no backend.
Variables are coerced first: an operation whose variables do not coerce is left for execution
to refuse (with ``BAD_USER_INPUT``) and charges nothing. The HTTP status and ``RateLimit-*``
headers go on the per-request temporal response (Strawberry copies both to the real one), and
``extensions.cost`` comes from ``get_results``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, get_operation_ast
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import get_variable_values
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from gateway.cost import operation_cost
from gateway.errors import GatewayError
from gateway.rate_limit import (
    BudgetStatus,
    CostTooHighError,
    RateLimitedError,
    format_reset_at,
)
from schema.context import Context

__all__ = ["CostBudgetExtension"]


def _variables_coerce(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> bool:
    """Whether graphql-core's execute will get past variable coercion, which it does after
    this hook: a request refused there never runs, so it must not spend the budget."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return True  # execution reports it; the cost of no operation is 0 anyway
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    return not isinstance(coerced, list)


class CostBudgetExtension(SchemaExtension):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._report: dict[str, Any] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if not isinstance(context, Context) or context.budgets is None or document is None:
            yield
            return
        budgets = context.budgets
        schema = self.execution_context.schema._schema
        if not _variables_coerce(
            schema,
            document,
            self.execution_context.operation_name,
            self.execution_context.variables,
        ):
            # Execution refuses the operation before any resolver runs: nothing to charge for.
            yield
            return
        cost = operation_cost(
            schema,
            document,
            operation_name=self.execution_context.operation_name,
            variables=self.execution_context.variables,
            model=budgets.model,
            ceiling=budgets.max_cost,
        )
        limit = budgets.limit_for(context.principal)
        if cost > budgets.max_cost or cost > limit:
            ceiling, what = (
                (budgets.max_cost, "the per-operation maximum")
                if cost > budgets.max_cost
                else (limit, "your whole budget per window")
            )
            self._report = {"requested": cost, "maximum": ceiling}
            self._refuse(
                context,
                CostTooHighError(
                    f"Query cost {cost} exceeds {what} ({ceiling}): ask for fewer items "
                    "(lower `first`) or split the query."
                ),
                status_code=400,
            )
            yield
            return
        client = context.request.client
        status = await budgets.charge(context.principal, client.host if client else None, cost)
        if status is None:  # the budget store is down: served unmetered (see Budgets.charge)
            self._report = {"requested": cost}
            yield
            return
        context.cost = status
        self._report = {
            "requested": cost,
            "limit": status.limit,
            "remaining": status.remaining,
            "resetAt": format_reset_at(status.reset_at),
        }
        self._set_headers(context, status)
        if not status.allowed:
            retry_after = max(1, math.ceil(status.retry_after))
            self._refuse(
                context,
                RateLimitedError(
                    f"Rate limit exceeded: this query costs {cost} points and {status.remaining} "
                    f"of {status.limit} remain; retry in {retry_after} s."
                ),
                status_code=429,
                headers={"Retry-After": str(retry_after)},
            )
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self._report is None else {"cost": self._report}

    def _refuse(
        self,
        context: Context,
        error: GatewayError,
        *,
        status_code: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.execution_context.result = GraphQLExecutionResult(
            data=None,
            errors=[
                GraphQLError(
                    error.message, original_error=error, extensions={"code": error.code.value}
                )
            ],
        )
        if isinstance(context.response, Response):
            context.response.status_code = status_code
            for name, value in (headers or {}).items():
                context.response.headers[name] = value

    @staticmethod
    def _set_headers(context: Context, status: BudgetStatus) -> None:
        if isinstance(context.response, Response):
            context.response.headers["RateLimit-Limit"] = str(status.limit)
            context.response.headers["RateLimit-Remaining"] = str(status.remaining)
            context.response.headers["RateLimit-Reset"] = str(status.reset_in())
