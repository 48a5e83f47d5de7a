"""Refusals: an operation (or a whole request) answered with errors before anything executes.

One type for every refusal, whoever makes it: the HTTP transport (a body too large, not JSON),
the pipeline (unknown persisted query, a parse error, a shape limit, invalid variables) or
demand control (too expensive, over budget). It carries the HTTP status a transport that has
statuses answers with, the errors with their contract codes, and any headers (``Allow``,
``Retry-After``, ``RateLimit-*``) or ``extensions`` (the cost report) that belong with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLError

from contract.errors import ErrorCode
from schema.masking import classify_all


class Refused(Exception):
    def __init__(
        self,
        status: int,
        errors: Sequence[GraphQLError],
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(errors[0].message if errors else "refused")
        self.status = status
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    @classmethod
    def because(
        cls,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Refused:
        """A refusal with one error of ``code``."""
        error = GraphQLError(message, extensions={"code": code.value})
        return cls(status, [error], headers=headers, extensions=extensions)

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
