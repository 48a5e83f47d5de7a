"""The one typed per-request context every field resolver receives, and what it may say back.

Built in one place (the operation pipeline) for every transport, so it holds nothing of HTTP:
a resolver that needs the caller asks ``principal``, one that needs a backend asks ``loaders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.api_keys import ApiKeys
from auth.principal import Principal
from datasources.event_fanout import EventFanout
from datasources.loaders import Loaders
from datasources.resilience import Deadline
from datasources.write_backends import WriteBackends
from schema.budget import BudgetStatus


@dataclass(slots=True)
class ResponseMeta:
    """The status and headers one operation asks its transport to answer with.

    Transport-neutral: HTTP copies both onto its response (a batch keeps 200 and the last
    operation's headers); a WebSocket has neither and ignores them.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    principal: Principal
    loaders: Loaders
    request_id: str
    #: When the whole request must be answered; every backend call is bounded by it.
    deadline: Deadline
    response: ResponseMeta = field(default_factory=ResponseMeta)
    api_keys: ApiKeys | None = None
    #: The budget after this operation's charge, written by the pipeline before execution and
    #: read by the ``rateLimit`` field; None when rate limiting is off or its store is down.
    cost: BudgetStatus | None = None
    #: What the write use cases (orders, profile) need; None where nothing may be written.
    writes: WriteBackends | None = None
    #: The transport's idempotency key (HTTP's ``Idempotency-Key`` header), for the mutations
    #: that take one; an ``idempotencyKey`` input field is the transport-neutral alternative.
    idempotency_key: str | None = None
    #: The process's order-event feeds, for ``Subscription.orderUpdated``; None where
    #: subscriptions are not served.
    events: EventFanout | None = None
