"""Turns every error of a result into one the client can act on, or masks it.

Applied by the operation pipeline to every finished result and refusal, whatever the transport,
so a resolver crash reads the same over HTTP and WebSocket.

Errors carrying a contract code pass through with ``extensions.code``; documents that never
executed get ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``; anything else is an
unexpected failure: its message is replaced (no stack traces, SQL or host names leak) and it
carries the request id, which is also in the server log next to the traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.relay.types import GlobalIDValueError

from contract.errors import ErrorCode, GatewayError

logger = logging.getLogger("manifold.errors")

MASKED_MESSAGE = "Unexpected error."


def _root(error: GraphQLError) -> BaseException | None:
    """The innermost original error: graphql-core wraps resolver errors once per layer."""
    original: BaseException | None = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def error_code(error: GraphQLError) -> ErrorCode | None:
    """The contract code for an error, or None when it is unexpected and must be masked."""
    original = _root(error)
    if isinstance(original, GatewayError):
        return original.code
    if isinstance(original, GlobalIDValueError):
        return ErrorCode.BAD_USER_INPUT
    existing = (error.extensions or {}).get("code")
    if isinstance(existing, str) and existing in ErrorCode.__members__:
        return ErrorCode(existing)
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        # Raised by graphql-core before execution: validation, unknown operation, bad variables.
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return None


def is_unexpected(error: GraphQLError) -> bool:
    return error_code(error) is None


def classify(error: GraphQLError, request_id: str | None) -> GraphQLError:
    code = error_code(error)
    if code is not None:
        original = _root(error)
        message = original.message if isinstance(original, GatewayError) else error.message
        extensions: dict[str, Any] = {**(error.extensions or {}), "code": code.value}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original if isinstance(original, GatewayError) else None,
            extensions=extensions,
        )
    masked_extensions: dict[str, Any] = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
    if request_id:
        masked_extensions["requestId"] = request_id
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=masked_extensions,
    )


def classify_all(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    return [classify(error, request_id) for error in errors]


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    """Log only unexpected failures, with their traceback; client errors are not crashes."""
    for error in errors:
        if is_unexpected(error):
            logger.error(
                "unexpected error resolving %s",
                ".".join(str(part) for part in error.path or ()) or "operation",
                exc_info=error.original_error or error,
                extra={"request_id": request_id},
            )
