"""The one typed per-request context every field resolver receives."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.api_keys import ApiKeys
from auth.principal import Principal
from datasources.loaders import Loaders
from gateway.rate_limit import Budgets, BudgetStatus


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket
    principal: Principal
    loaders: Loaders
    request_id: str
    #: Cost budgets; None turns cost checks off (schemas run without a gateway, in tests).
    budgets: Budgets | None = None
    api_keys: ApiKeys | None = None
    #: Set by the cost extension before execution, read by the ``rateLimit`` field.
    cost: BudgetStatus | None = None
