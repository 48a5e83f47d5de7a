"""GraphQL presentation of users."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from datasources.users import UserRecord
from resolvers import orders as order_resolvers
from resolvers import recommendations as recommendation_resolvers
from resolvers import users as user_resolvers
from schema.connections import to_connection
from schema.context import Context
from schema.idempotency import writes_of
from schema.ids import node_id_of, parse_node_id
from schema.orders import OrderStatus, stored_status
from schema.permissions import scoped

if TYPE_CHECKING:
    from schema.orders import Order
    from schema.recommendations import Recommendation


@strawberry.type(description="A customer account.")
class User(relay.Node):
    pk: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    email_address: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(
            pk=record.id,
            name=record.name,
            created_at=record.created_at,
            email_address=record.email,
        )

    @strawberry.field(**scoped(user_resolvers.READ_EMAIL, "Email address."))
    def email(self) -> str | None:
        return self.email_address

    @strawberry.field(
        **scoped(
            order_resolvers.READ_ORDERS,
            "This customer's orders, newest first. Another customer's orders read as none "
            "unless the caller holds orders:read:all.",
        )
    )
    async def orders(
        self,
        info: strawberry.Info[Context],
        first: int | None = 20,
        after: str | None = None,
        status: OrderStatus | None = None,
    ) -> relay.Connection[Annotated[Order, strawberry.lazy("schema.orders")]] | None:
        from schema.orders import Order  # noqa: PLC0415 - User and Order refer to each other

        page = await order_resolvers.orders_of_user(
            loaders=info.context.loaders,
            principal=info.context.principal,
            user_id=self.pk,
            first=first,
            after=after,
            status=stored_status(status),
        )
        return to_connection(page, Order.from_record)

    @strawberry.field(
        **scoped(
            recommendation_resolvers.READ_RECOMMENDATIONS,
            "Suggestions for this user, best first (first: 1..50, default 10). They reveal what "
            "the user bought, so another user's read as none unless the caller holds "
            "orders:read:all.",
        )
    )
    async def recommendations(
        self, info: strawberry.Info[Context], first: int | None = 10
    ) -> list[Annotated[Recommendation, strawberry.lazy("schema.recommendations")]] | None:
        from schema.recommendations import Recommendation  # noqa: PLC0415 - mutual reference

        records = await recommendation_resolvers.recommendations_of_user(
            loaders=info.context.loaders,
            principal=info.context.principal,
            user_id=self.pk,
            first=first,
        )
        return [Recommendation.from_record(record) for record in records]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context],
        node_ids: Iterable[str],
        required: bool = False,
        **_kwargs: Any,
    ) -> list[User | None]:
        records = await user_resolvers.get_users(
            loaders=info.context.loaders,
            principal=info.context.principal,
            user_ids=[parse_node_id(node_id) for node_id in node_ids],
        )
        return [None if record is None else cls.from_record(record) for record in records]


@strawberry.type
class UsersQuery:
    @strawberry.field(description="The calling user; null for anonymous callers and partners.")
    async def me(self, info: strawberry.Info[Context]) -> User | None:
        record = await user_resolvers.current_user(
            loaders=info.context.loaders, principal=info.context.principal
        )
        return None if record is None else User.from_record(record)

    @strawberry.field(**scoped(user_resolvers.READ_USERS, "A user by global id."))
    async def user(self, info: strawberry.Info[Context], id: relay.GlobalID) -> User | None:
        # The same path as node(id:), so both authorize identically.
        (user,) = await User.resolve_nodes(info=info, node_ids=[node_id_of(id, "User")])
        return user

    @strawberry.field(**scoped(user_resolvers.READ_USERS, "All users, in creation order."))
    async def users(
        self, info: strawberry.Info[Context], first: int | None = 20, after: str | None = None
    ) -> relay.Connection[User]:
        page = await user_resolvers.list_users(
            loaders=info.context.loaders, principal=info.context.principal, first=first, after=after
        )
        return to_connection(page, User.from_record)


@strawberry.input
class UpdateProfileInput:
    name: str = strawberry.field(description="Your display name: 1 to 200 characters.")


@strawberry.type
class UpdateProfilePayload:
    user: User


@strawberry.type
class UsersMutation:
    @strawberry.mutation(
        **scoped(user_resolvers.WRITE_PROFILE, "Change your own profile (and nobody else's).")
    )
    async def update_profile(
        self, info: strawberry.Info[Context], input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        record = await user_resolvers.update_profile(
            database=writes_of(info).database,
            loaders=info.context.loaders,
            principal=info.context.principal,
            name=input.name,
        )
        return UpdateProfilePayload(user=User.from_record(record))
