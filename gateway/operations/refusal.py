"""Refusals: an operation (or a whole request) answered with errors before anything executes.

One type for every refusal, whoever makes it: the HTTP transport (a body too large, not JSON),
the pipeline (unknown persisted query, a parse error, a shape limit, invalid variables) or
demand control (too expensive, over budget). It carries the HTTP status a transport that has
statuses answers with, the errors with their contract codes, and any headers (``Allow``,
``Retry-After``, ``RateLimit-*``) or ``extensions`` (the cost report) that belong with it.

It also says whether it is a *GraphQL request error* in the GraphQL-over-HTTP sense: the request
was well-formed, but its document did not parse or validate (the shape limits and the
introspection rule are validation rules too), no operation could be selected, or its variables
did not coerce. HTTP answers those 400 with ``application/graphql-response+json`` but 200 with
the legacy ``application/json``; every other refusal keeps its status whatever the media type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLError

from contract.errors import ErrorCode
from schema.masking import classify_all, error_code

#: Codes that make a refusal a GraphQL request error on their own: parse and validation
#: failures, the extra validation rules (limits, introspection); a refusal of variables says so
#: explicitly, since BAD_USER_INPUT also names requests that are not well-formed.
REQUEST_ERROR_CODES = frozenset(
    {
        ErrorCode.GRAPHQL_PARSE_FAILED,
        ErrorCode.GRAPHQL_VALIDATION_FAILED,
        ErrorCode.MAX_DEPTH_LIMIT,
        ErrorCode.MAX_ALIASES_LIMIT,
        ErrorCode.MAX_TOKENS_LIMIT,
        ErrorCode.MAX_DIRECTIVES_LIMIT,
        ErrorCode.MAX_ROOT_FIELDS_LIMIT,
        ErrorCode.INTROSPECTION_DISABLED,
    }
)


class Refused(Exception):
    def __init__(
        self,
        status: int,
        errors: Sequence[GraphQLError],
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        request_error: bool | None = None,
    ) -> None:
        super().__init__(errors[0].message if errors else "refused")
        self.status = status
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})
        #: A GraphQL request error (see the module docstring); inferred from the codes unless
        #: the refusing step says so.
        self.request_error = (
            bool(self.errors) and all(error_code(e) in REQUEST_ERROR_CODES for e in self.errors)
            if request_error is None
            else request_error
        )

    @classmethod
    def because(
        cls,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        request_error: bool | None = None,
    ) -> Refused:
        """A refusal with one error of ``code``."""
        error = GraphQLError(message, extensions={"code": code.value})
        return cls(
            status, [error], headers=headers, extensions=extensions, request_error=request_error
        )

    def payload(self, request_id: str | None = None) -> dict[str, Any]:
        """The body: errors with their contract codes (and extensions), never ``data``: nothing
        executed."""
        errors = classify_all(self.errors, request_id)
        body: dict[str, Any] = {"errors": [error.formatted for error in errors]}
        if self.extensions:
            body["extensions"] = self.extensions
        return body


def bad_request(message: str) -> Refused:
    return Refused.because(400, ErrorCode.BAD_USER_INPUT, message)
