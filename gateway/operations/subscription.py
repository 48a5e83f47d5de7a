"""A prepared subscription: its source stream, and each event executed as a response.

The transports (``gateway.subscriptions``) prepare a subscription through the same pipeline as
any operation (``OperationPipeline.prepare``: persisted-only, parse and token limit, shape
limits, authentication, validation, variables, cost charged once, at subscribe) and then ask
here for its stream. The source stream is resolved once (the ``subscribe`` resolver checks the
scope and decides who sees what); every event is then executed on its own fresh ``Context``
(fresh loaders, so ``order`` is read as it is now, and a deadline per event), exactly as a query
would be, and answered as an ``Outcome`` with errors classified and masked.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Hashable
from typing import Any

import orjson
from graphql import ExecutionResult
from graphql.execution import create_source_event_stream

from datasources.resilience import Deadline
from gateway.operations.execution import execute_operation, is_awaitable
from gateway.operations.pipeline import OperationPipeline, Outcome, Prepared
from gateway.operations.refusal import Refused

#: What a subscription becomes: its responses, one per event, or the one answer that ended it
#: before any event (its resolver refused: FORBIDDEN, BAD_USER_INPUT…).
Subscription = AsyncGenerator[Outcome, None] | Outcome


async def open_subscription(
    pipeline: OperationPipeline, prepared: Prepared, *, event_timeout_seconds: float
) -> Subscription:
    """Resolve the source stream of a prepared subscription.

    A query or mutation sent on a streaming transport is not a subscription: it is executed at
    once and its outcome returned, as over HTTP.
    """
    if prepared.operation.kind.value != "subscription":
        return await pipeline.execute(prepared)
    schema = pipeline.schema
    operation = prepared.call.operation
    context = pipeline.context(prepared)
    executor = schema.execution_context_class.build(
        schema._schema,
        prepared.document.node,
        None,
        context,
        operation.variables,
        operation.operation_name,
        is_awaitable=is_awaitable,
        hide_suggestions=not schema.suggestions,
    )
    if isinstance(executor, list):
        raise Refused(400, executor)
    stream: Any = create_source_event_stream(executor)
    if is_awaitable(stream):
        stream = await stream
    if isinstance(stream, ExecutionResult):
        return pipeline.answer(stream, context.request_id, context.response, prepared.charge)
    return _responses(pipeline, prepared, stream, event_timeout_seconds)


async def _responses(
    pipeline: OperationPipeline,
    prepared: Prepared,
    source: AsyncIterable[Any],
    event_timeout_seconds: float,
) -> AsyncGenerator[Outcome, None]:
    schema = pipeline.schema
    operation = prepared.call.operation
    shared = pipeline.shared_events
    subscription_key = _subscription_key(prepared)
    iterator = aiter(source)
    try:
        async for event in iterator:
            context = pipeline.event_context(prepared, Deadline(event_timeout_seconds))
            event_id = getattr(event, "id", None)
            key = (
                None
                if subscription_key is None or event_id is None
                else (subscription_key, event_id)
            )

            def execute(context: Any = context, event: Any = event) -> Awaitable[ExecutionResult]:
                return execute_operation(
                    schema,
                    prepared.document.node,
                    operation_name=operation.operation_name,
                    variables=operation.variables,
                    context=context,
                    operation_extensions=operation.extensions,
                    root_value=event,
                )

            result = await shared.run(key, execute)
            yield pipeline.answer(result, context.request_id, context.response, prepared.charge)
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


def _subscription_key(prepared: Prepared) -> Hashable | None:
    """What an event's answer depends on besides the data (``gateway.operations.shared_events``);
    None when the variables cannot be written down exactly, and then nothing is shared."""
    operation = prepared.call.operation
    try:
        variables = orjson.dumps(operation.variables, option=orjson.OPT_SORT_KEYS)
        extensions = orjson.dumps(operation.extensions, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return (prepared.query, operation.operation_name, variables, extensions, prepared.principal)
