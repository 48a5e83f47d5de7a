"""The one typed per-request context every field resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.api_keys import ApiKeys
from auth.principal import Principal
from datasources.loaders import Loaders
from datasources.resilience import Deadline
from schema.prepared import PreparedDocument

if TYPE_CHECKING:  # the gateway owns budgets; the schema only carries them per request
    from gateway.rate_limit import Budgets, BudgetStatus


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket
    principal: Principal
    loaders: Loaders
    request_id: str
    #: When the whole request must be answered; every backend call is bounded by it.
    deadline: Deadline
    #: The document the protocol layer already parsed (and maybe validated), if any.
    prepared: PreparedDocument | None = None
    #: Cost budgets; None turns cost checks off (schemas run without a gateway, in tests).
    budgets: Budgets | None = None
    api_keys: ApiKeys | None = None
    #: Set by the cost extension before execution, read by the ``rateLimit`` field.
    cost: BudgetStatus | None = None
