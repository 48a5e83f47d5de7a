"""Static limits on a document's shape, checked before anything executes.

A public GraphQL endpoint is attacked with its own language: nesting, alias floods, directive
floods and huge documents cost the server far more than the client. These checks run on the
parsed document (the token limit while parsing: graphql-core's ``parse(max_tokens=…)`` aborts as
soon as the limit is passed), before authentication, validation or any resolver, so a rejected
request costs no SQL statement and no upstream call.

The shape is measured once per cached document (``analysis``), through fragments; this module
only compares it with the limits.

``measure`` mode logs violations without rejecting, to roll out a tighter limit safely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLSyntaxError, parse

from contract.errors import ErrorCode
from gateway.operations.analysis import Shape
from gateway.settings import LimitsMode, Settings

logger = logging.getLogger("manifold.limits")


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_directives: int
    max_root_fields: int
    mode: LimitsMode = LimitsMode.ENFORCE

    @classmethod
    def from_settings(cls, settings: Settings) -> ShapeLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_directives=settings.max_directives,
            max_root_fields=settings.max_root_fields,
            mode=settings.limits_mode,
        )

    @property
    def enforcing(self) -> bool:
        return self.mode is LimitsMode.ENFORCE


@dataclass(frozen=True, slots=True)
class Violation:
    code: ErrorCode
    message: str


def violations(shape: Shape, limits: ShapeLimits) -> list[Violation]:
    found: list[Violation] = []
    if shape.depth > limits.max_depth:
        found.append(
            Violation(
                ErrorCode.MAX_DEPTH_LIMIT,
                f"Query depth {shape.depth} exceeds the maximum of {limits.max_depth}.",
            )
        )
    if shape.aliases > limits.max_aliases:
        found.append(
            Violation(
                ErrorCode.MAX_ALIASES_LIMIT,
                f"Query uses {shape.aliases} aliases; the maximum is {limits.max_aliases}.",
            )
        )
    if shape.directives > limits.max_directives:
        found.append(
            Violation(
                ErrorCode.MAX_DIRECTIVES_LIMIT,
                f"Query uses {shape.directives} directives; the maximum is "
                f"{limits.max_directives}.",
            )
        )
    if shape.root_fields > limits.max_root_fields:
        found.append(
            Violation(
                ErrorCode.MAX_ROOT_FIELDS_LIMIT,
                f"Operation selects {shape.root_fields} root fields; the maximum is "
                f"{limits.max_root_fields}.",
            )
        )
    return found


def is_token_limit_error(error: GraphQLSyntaxError) -> bool:
    return "tokens. Parsing aborted." in error.message


def parse_limited(query: str, limits: ShapeLimits) -> tuple[DocumentNode, bool]:
    """Parse, aborting early past the token limit (``GraphQLSyntaxError``); in measure mode a
    document over the limit is parsed in full and flagged, so ``check`` logs it every time."""
    try:
        return parse(query, max_tokens=limits.max_tokens), False
    except GraphQLSyntaxError as error:
        if limits.enforcing or not is_token_limit_error(error):
            raise
        return parse(query), True


def check(shape: Shape, limits: ShapeLimits, *, over_tokens: bool = False) -> list[Violation]:
    """The violations to reject with (empty in measure mode, where they are only logged)."""
    found = violations(shape, limits)
    if over_tokens:
        found.append(
            Violation(
                ErrorCode.MAX_TOKENS_LIMIT,
                f"Document contains more than {limits.max_tokens} tokens.",
            )
        )
    if found and not limits.enforcing:
        for violation in found:
            logger.warning("limit measured (%s): %s", violation.code, violation.message)
        return []
    return found
