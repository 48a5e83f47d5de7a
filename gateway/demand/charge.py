"""Pricing each operation before it runs and charging the caller's budget, or refusing it.

A step of the operation pipeline, run after validation and variable coercion (an operation that
never runs must not spend the budget) and before execution, so a refused operation touches no
backend. It decides what the answer says about the budget: ``extensions.cost`` and the
``RateLimit-*`` headers on success; ``COST_ESTIMATED_TOO_EXPENSIVE`` (400) or ``RATE_LIMITED``
(429 with ``Retry-After``) when refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FragmentDefinitionNode, GraphQLError, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues

from auth.principal import Principal
from contract.errors import CostTooHighError, GatewayError, RateLimitedError
from gateway.demand.budgets import Budgets
from gateway.demand.cost import price
from gateway.operations.refusal import Refused
from schema.budget import BudgetStatus, format_reset_at

__all__ = ["Charge", "Demand"]


@dataclass(frozen=True, slots=True)
class Charge:
    """An operation allowed to run, and what its answer says about the budget."""

    #: The budget after the charge; None when rate limiting is off or its store is down.
    status: BudgetStatus | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: ``extensions.cost``; None when rate limiting is off.
    report: dict[str, Any] | None = None


FREE = Charge()


def _refusal(
    error: GatewayError,
    status: int,
    report: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Refused:
    graphql_error = GraphQLError(
        error.message, original_error=error, extensions={"code": error.code.value}
    )
    return Refused(status, [graphql_error], headers=headers, extensions={"cost": report})


def _headers(status: BudgetStatus) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(status.limit),
        "RateLimit-Remaining": str(status.remaining),
        "RateLimit-Reset": str(status.reset_in()),
    }


class Demand:
    def __init__(self, budgets: Budgets | None) -> None:
        self.budgets = budgets

    async def charge(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        *,
        principal: Principal,
        client_ip: str | None,
    ) -> Charge:
        """The charge for ``operation``; raises ``Refused`` when it may not run."""
        budgets = self.budgets
        if budgets is None:
            return FREE
        cost = price(
            schema, operation, fragments, variables, model=budgets.model, ceiling=budgets.max_cost
        )
        limit = budgets.limit_for(principal)
        if cost > budgets.max_cost or cost > limit:
            ceiling, what = (
                (budgets.max_cost, "the per-operation maximum")
                if cost > budgets.max_cost
                else (limit, "your whole budget per window")
            )
            raise _refusal(
                CostTooHighError(
                    f"Query cost {cost} exceeds {what} ({ceiling}): ask for fewer items "
                    "(lower `first`) or split the query."
                ),
                400,
                {"requested": cost, "maximum": ceiling},
            )
        status = await budgets.charge(principal, client_ip, cost)
        if status is None:  # the budget store is down: served unmetered (see Budgets.charge)
            return Charge(report={"requested": cost})
        report = {
            "requested": cost,
            "limit": status.limit,
            "remaining": status.remaining,
            "resetAt": format_reset_at(status.reset_at),
        }
        headers = _headers(status)
        if not status.allowed:
            retry_after = max(1, math.ceil(status.retry_after))
            raise _refusal(
                RateLimitedError(
                    f"Rate limit exceeded: this query costs {cost} points and {status.remaining} "
                    f"of {status.limit} remain; retry in {retry_after} s."
                ),
                429,
                report,
                {**headers, "Retry-After": str(retry_after)},
            )
        return Charge(status=status, headers=headers, report=report)
