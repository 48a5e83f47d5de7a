"""Parsing and validation for Strawberry, reusing what the protocol layer already did.

The protocol layer parses every document itself (with the token limit, and to check its shape
before anything runs) and parses trusted documents once at start-up; this extension hands that
document to Strawberry instead of parsing the text again, skips validation for documents already
validated at start, and caps the number of validation errors returned (graphql-core's
``max_errors``), so a junk document cannot make the server build a huge error list. It replaces
Strawberry's ``ParserCache``/``ValidationCache``, with bounded caches owned by one schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

#: Rules Strawberry adds to graphql-core's for every document.
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document parsed (and, for trusted documents, validated) before execution starts."""

    document: DocumentNode
    validated: bool = False


class DocumentCaches:
    """Bounded parse and validation caches of one schema; unique junk cannot grow memory."""

    def __init__(self, *, maxsize: int, max_validation_errors: int) -> None:
        self.max_validation_errors = max_validation_errors
        self.parse: Callable[[str], DocumentNode] = lru_cache(maxsize=maxsize)(parse)
        self.validate: Callable[
            [GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]
        ] = lru_cache(maxsize=maxsize)(self._validate)

    def _validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        return validate(
            schema,
            document,
            (*rules, *STRAWBERRY_RULES),
            max_errors=self.max_validation_errors,
        )


class PreparedOperation(SchemaExtension):
    def __init__(self, caches: DocumentCaches) -> None:
        super().__init__()
        self.caches = caches

    def _prepared(self) -> PreparedDocument | None:
        prepared = getattr(self.execution_context.context, "prepared", None)
        return prepared if isinstance(prepared, PreparedDocument) else None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        prepared = self._prepared()
        if prepared is not None:
            context.graphql_document = prepared.document
        elif context.query:
            context.graphql_document = self.caches.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        prepared = self._prepared()
        if prepared is not None and prepared.validated:
            context.pre_execution_errors = []
        elif context.graphql_document is not None:
            context.pre_execution_errors = self.caches.validate(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
        yield
