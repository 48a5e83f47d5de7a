"""The Strawberry schema: domain types per module, assembled here."""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.api_keys import ApiKeysMutation, ApiKeysQuery
from schema.content import Content, ContentQuery
from schema.federation import SCALARS, FederationQuery, subgraph_sdl
from schema.masking import log_unexpected
from schema.nodes import NodeQuery
from schema.order_events import OrdersSubscription
from schema.order_mutations import OrdersMutation
from schema.orders import Order, OrdersQuery
from schema.rate_limit import RateLimitQuery
from schema.recommendations import RecommendationsQuery
from schema.users import User, UsersMutation, UsersQuery
from schema.validation import NoIntrospection, validation_rules

_QUERIES = (
    NodeQuery,
    UsersQuery,
    OrdersQuery,
    ContentQuery,
    RecommendationsQuery,
    ApiKeysQuery,
    RateLimitQuery,
)
Query = merge_types("Query", _QUERIES)
Mutation = merge_types("Mutation", (OrdersMutation, UsersMutation, ApiKeysMutation))
Subscription = merge_types("Subscription", (OrdersSubscription,))


class ManifoldSchema(strawberry.Schema):
    #: Set by build_schema: every validation rule a document meets, wherever it is validated
    #: (the gateway's pipeline, trusted documents at start-up, Strawberry's own ``execute``).
    validation_rules: tuple[type[ASTValidationRule], ...]
    #: Whether "Did you mean …" hints may appear in validation errors.
    suggestions: bool
    #: The Apollo Federation subgraph SDL (``_service { sdl }``); None when not a subgraph.
    subgraph_sdl: str | None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry's own ``execute`` (tools, tests) logs like the pipeline does."""
        request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
        log_unexpected(errors, str(request_id))


def build_schema(
    *, suggestions: bool = True, introspection: bool = True, federation: bool = False
) -> ManifoldSchema:
    """A fresh schema; built per app so settings never leak between instances.

    The gateway executes documents itself (``gateway.operations``) and reads ``validation_rules``
    and ``suggestions`` from here; the Strawberry extension only makes ``schema.execute`` refuse
    introspection the same way when it is off. ``federation`` adds the subgraph fields
    (``schema.federation``).
    """
    schema = ManifoldSchema(
        query=merge_types("Query", (*_QUERIES, FederationQuery)) if federation else Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Order, Content],
        extensions=[] if introspection else [lambda: AddValidationRules([NoIntrospection])],
        config=StrawberryConfig(disable_field_suggestions=not suggestions, scalar_map=SCALARS),
    )
    schema.validation_rules = validation_rules(introspection=introspection)
    schema.suggestions = suggestions
    schema.subgraph_sdl = subgraph_sdl(schema.as_str()) if federation else None
    return schema
