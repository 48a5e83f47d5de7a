"""The one typed per-request context every field resolver receives."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.principal import Principal
from datasources.loaders import Loaders
from datasources.resilience import Deadline
from schema.prepared import PreparedDocument


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
