"""The validation rules every document of this schema meets, wherever it is validated.

graphql-core's specified rules, the two Strawberry adds for its own features (``Maybe`` nulls
and ``@oneOf`` inputs), and, when introspection is switched off (the default in prod), a rule
refusing ``__schema``, ``__type`` and a subgraph's ``_service`` with the contract code
``INTROSPECTION_DISABLED``.
"""

from __future__ import annotations

from typing import Any

from graphql import ASTValidationRule, FieldNode, GraphQLError, ValidationRule, specified_rules
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from contract.errors import ErrorCode

#: The root fields that introspect the schema (``__typename`` only names a type).
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
#: What introspection being off refuses: those, and a federation subgraph's SDL, which is the
#: whole schema too.
SCHEMA_REVEALING_FIELDS = INTROSPECTION_FIELDS | {"_service"}

#: Rules Strawberry adds to graphql-core's for every document.
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


class NoIntrospection(ValidationRule):
    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in SCHEMA_REVEALING_FIELDS:
            self.report_error(
                GraphQLError(
                    "Introspection is disabled on this gateway.",
                    node,
                    extensions={"code": ErrorCode.INTROSPECTION_DISABLED.value},
                )
            )


def validation_rules(*, introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    extra: tuple[type[ASTValidationRule], ...] = () if introspection else (NoIntrospection,)
    return (*specified_rules, *STRAWBERRY_RULES, *extra)
