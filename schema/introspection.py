"""Refuses introspection when it is switched off (the default in prod), with its contract code."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule

from gateway.errors import ErrorCode

_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class NoIntrospection(ValidationRule):
    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in _INTROSPECTION_FIELDS:
            self.report_error(
                GraphQLError(
                    "Introspection is disabled on this gateway.",
                    node,
                    extensions={"code": ErrorCode.INTROSPECTION_DISABLED.value},
                )
            )
