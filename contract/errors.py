"""The one exception tree whose codes reach clients.

Every error a client may see is a ``GatewayError`` carrying a code from the public contract
(``errors[].extensions.code``); anything else is masked as ``INTERNAL_SERVER_ERROR``. This module
imports nothing from the project so every layer (auth, resolvers, datasources) can raise these
without pulling in the web stack::

    GatewayError                      INTERNAL_SERVER_ERROR
    ├── AuthenticationError           UNAUTHENTICATED      (HTTP 401 for a bad credential)
    ├── ForbiddenError                FORBIDDEN
    ├── BadUserInputError             BAD_USER_INPUT
    ├── NotFoundError                 NOT_FOUND
    ├── IdempotencyKeyReusedError     IDEMPOTENCY_KEY_REUSED (the key named another request)
    ├── IdempotencyKeyInUseError      IDEMPOTENCY_KEY_IN_USE (its first request still runs)
    ├── CostTooHighError              COST_ESTIMATED_TOO_EXPENSIVE
    ├── RateLimitedError              RATE_LIMITED
    └── UpstreamError                 UPSTREAM_UNAVAILABLE
        │   datasources add: CircuitOpenError, MalformedContentError, ResponseTooLargeError
        └── UpstreamTimeoutError      UPSTREAM_TIMEOUT

Codes raised by the gateway before any of these could be (parse, validation and shape limits,
persisted operations, introspection) are refusals of the operation pipeline, which carry their
``ErrorCode`` with an HTTP status (``gateway.operations.refusal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """Every ``extensions.code`` in the public contract."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    MAX_DEPTH_LIMIT = "MAX_DEPTH_LIMIT"
    MAX_ALIASES_LIMIT = "MAX_ALIASES_LIMIT"
    MAX_TOKENS_LIMIT = "MAX_TOKENS_LIMIT"
    MAX_ROOT_FIELDS_LIMIT = "MAX_ROOT_FIELDS_LIMIT"
    MAX_DIRECTIVES_LIMIT = "MAX_DIRECTIVES_LIMIT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
    COST_ESTIMATED_TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class GatewayError(Exception):
    """An error whose message is safe to show to the client, tagged with its contract code."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: What the client may act on besides the code (graphql-core copies these into
        #: ``errors[].extensions``), e.g. the input field at fault.
        self.extensions: dict[str, Any] = dict(extensions or {})


#: The credential schemes a refusal can name: what HTTP puts in its ``WWW-Authenticate``
#: challenge, so a client learns which credential to fix (RFC 6750 for tokens; API keys have no
#: registered scheme, so theirs is named after the header).
BEARER_SCHEME = "Bearer"
API_KEY_SCHEME = "ApiKey"


class AuthenticationError(GatewayError):
    """The caller is not authenticated, or presented a credential that is not valid.

    ``scheme`` is the credential refused; ``reason`` the RFC 6750 error code (``invalid_token``,
    ``invalid_key`` for an API key, ``invalid_request`` when the request itself is ambiguous).
    """

    code = ErrorCode.UNAUTHENTICATED

    def __init__(
        self, message: str, *, scheme: str = BEARER_SCHEME, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.scheme = scheme
        self.reason = reason or ("invalid_key" if scheme == API_KEY_SCHEME else "invalid_token")


class ForbiddenError(GatewayError):
    """The caller is known but lacks a scope the field requires."""

    code = ErrorCode.FORBIDDEN


class BadUserInputError(GatewayError):
    """An argument is malformed or out of range (global ids, cursors, ``first``)."""

    code = ErrorCode.BAD_USER_INPUT


class NotFoundError(GatewayError):
    """The object does not exist, or the caller may not know that it does."""

    code = ErrorCode.NOT_FOUND


class IdempotencyKeyReusedError(GatewayError):
    """The idempotency key was already used, by this caller, for a different request."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class IdempotencyKeyInUseError(GatewayError):
    """The first request with this idempotency key is still running; retry after a while."""

    code = ErrorCode.IDEMPOTENCY_KEY_IN_USE

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, extensions={"retryAfter": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class CostTooHighError(GatewayError):
    """The operation's estimated cost exceeds what one operation (or the caller's budget) allows."""

    code = ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE


class RateLimitedError(GatewayError):
    """The caller's budget for this window cannot pay for the operation."""

    code = ErrorCode.RATE_LIMITED


class UpstreamError(GatewayError):
    """A backend this gateway depends on could not answer."""

    code = ErrorCode.UPSTREAM_UNAVAILABLE


class UpstreamTimeoutError(UpstreamError):
    """A backend did not answer within its deadline."""

    code = ErrorCode.UPSTREAM_TIMEOUT
