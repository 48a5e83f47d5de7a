"""Mutations that take an idempotency key: which key applies, and what the answer says of it.

A replayed answer carries ``Idempotent-Replayed: true``; a refusal answers with the status the
IETF idempotency draft gives it (422 for a key reused with another request, 409 with
``Retry-After`` for one whose first request still runs), on transports that have statuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from contract.errors import GatewayError, IdempotencyKeyInUseError, IdempotencyKeyReusedError
from datasources.idempotency import Idempotent
from datasources.write_backends import WriteBackends
from resolvers.idempotency import chosen_key
from schema.context import Context

T = TypeVar("T")

REPLAYED_HEADER = "Idempotent-Replayed"


def writes_of(info: strawberry.Info[Context]) -> WriteBackends:
    if info.context.writes is None:
        raise GatewayError("this gateway does not accept writes")
    return info.context.writes


async def keyed(
    info: strawberry.Info[Context],
    field_key: str | None,
    run: Callable[[str | None], Awaitable[Idempotent[T]]],
) -> T:
    """Run a keyed mutation with the key the request chose, reporting replays and refusals."""
    response = info.context.response
    key = chosen_key(info.context.idempotency_key, field_key)
    try:
        result = await run(key)
    except IdempotencyKeyInUseError as error:
        response.status = 409
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        raise
    except IdempotencyKeyReusedError:
        response.status = 422
        raise
    if result.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return result.value
