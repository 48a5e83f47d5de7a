"""What a transport hands the pipeline: one operation, how it arrived, and who is asking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import OperationType

from auth.principal import Principal
from datasources.resilience import Deadline
from gateway.operations.refusal import bad_request

#: Authenticates the caller when first asked, then answers the same principal: the pipeline
#: asks only once an operation needs it, so cheap refusals cost no credential check.
PrincipalSource = Callable[[], Awaitable[Principal]]


class Transport(Enum):
    HTTP_GET = "GET"
    HTTP_POST = "POST"
    WEBSOCKET = "websocket"
    SSE = "sse"

    @property
    def allows(self) -> frozenset[OperationType]:
        """Operation types this transport serves: a GET must be safe (no mutation), and only a
        stream can deliver a subscription."""
        return _ALLOWED[self]


_ALLOWED = {
    Transport.HTTP_GET: frozenset({OperationType.QUERY}),
    Transport.HTTP_POST: frozenset({OperationType.QUERY, OperationType.MUTATION}),
    Transport.WEBSOCKET: frozenset(OperationType),
    Transport.SSE: frozenset(OperationType),
}


@dataclass(slots=True)
class OperationRequest:
    """One GraphQL request as the GraphQL-over-HTTP spec names its parameters (a batch holds
    several); every transport reads its own framing into this."""

    query: str | None = None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None

    @property
    def persisted_hash(self) -> str | None:
        persisted = self.extensions.get("persistedQuery")
        if not isinstance(persisted, dict):
            return None
        if persisted.get("version", 1) != 1:
            raise bad_request("Unsupported persisted query version.")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not sha256:
            raise bad_request("persistedQuery.sha256Hash must be a non-empty string.")
        return sha256


@dataclass(frozen=True, slots=True)
class OperationCall:
    operation: OperationRequest
    transport: Transport
    principal: PrincipalSource
    #: Shared by every operation of one request (a batch) or one subscription.
    deadline: Deadline
    request_id: str
    #: The caller's address, for an anonymous caller's budget.
    client_ip: str | None = None
    #: The transport's idempotency key (HTTP: ``Idempotency-Key``), for keyed mutations.
    idempotency_key: str | None = None
