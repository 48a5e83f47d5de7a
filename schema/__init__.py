"""The Strawberry schema: domain types per module, assembled here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import strawberry
from graphql import ASTValidationRule, GraphQLError, specified_rules
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.api_keys import ApiKeysMutation, ApiKeysQuery
from schema.content import Content, ContentQuery
from schema.errors import is_unexpected
from schema.introspection import NoIntrospection
from schema.nodes import NodeQuery
from schema.orders import Order, OrdersQuery
from schema.prepared import DocumentCaches, PreparedOperation
from schema.rate_limit import RateLimitQuery
from schema.recommendations import RecommendationsQuery
from schema.users import User, UsersQuery

logger = logging.getLogger("manifold.errors")

#: Documents cached after parsing/validation; bounded so unique junk cannot grow memory.
DOCUMENT_CACHE_SIZE = 1024


Query = merge_types(
    "Query",
    (
        NodeQuery,
        UsersQuery,
        OrdersQuery,
        ContentQuery,
        RecommendationsQuery,
        ApiKeysQuery,
        RateLimitQuery,
    ),
)
Mutation = merge_types("Mutation", (ApiKeysMutation,))


class ManifoldSchema(strawberry.Schema):
    #: Set by build_schema: the document caches and every validation rule a document meets,
    #: so documents validated outside a request (trusted documents) meet the same rules.
    caches: DocumentCaches
    validation_rules: tuple[type[ASTValidationRule], ...]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only unexpected failures, with their traceback; client errors are not crashes."""
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
        for error in errors:
            if is_unexpected(error):
                logger.error(
                    "unexpected error resolving %s",
                    ".".join(str(part) for part in error.path or ()) or "operation",
                    exc_info=error.original_error or error,
                    extra={"request_id": request_id},
                )


Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def build_schema(
    *,
    suggestions: bool = True,
    introspection: bool = True,
    max_validation_errors: int = 100,
    extensions: Sequence[Extension] = (),
) -> ManifoldSchema:
    """A fresh schema; built per app so settings never leak between instances.

    ``extensions`` come from the gateway (cost and budgets), which owns the policies they apply;
    they run after the document is prepared, in the order given.
    """
    caches = DocumentCaches(
        maxsize=DOCUMENT_CACHE_SIZE, max_validation_errors=max_validation_errors
    )
    all_extensions: list[Extension] = [lambda: PreparedOperation(caches), *extensions]
    extra_rules: list[type[ASTValidationRule]] = []
    if not introspection:
        extra_rules.append(NoIntrospection)
        all_extensions.append(lambda: AddValidationRules([NoIntrospection]))
    schema = ManifoldSchema(
        query=Query,
        mutation=Mutation,
        types=[User, Order, Content],
        extensions=all_extensions,
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )
    schema.caches = caches
    schema.validation_rules = (*specified_rules, *extra_rules)
    return schema
