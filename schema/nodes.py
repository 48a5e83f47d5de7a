"""``node(id:)`` and ``nodes(ids:)``, resolved through each type's own ``resolve_nodes``.

Written out rather than taken from ``relay.node()`` so that an id naming no fetchable type is
``BAD_USER_INPUT`` (not a crash), the list is bounded, and a type the caller may not read fails
only its own items: siblings in the list and in the query are still served.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import strawberry
from strawberry import relay

from contract.errors import BadUserInputError, GatewayError
from schema.content import Content
from schema.context import Context
from schema.orders import Order
from schema.users import User

NodeType = type[User] | type[Order] | type[Content]

#: The types ``node`` can fetch, by GraphQL name.
NODE_TYPES: dict[str, NodeType] = {"User": User, "Order": Order, "Content": Content}

MAX_NODE_IDS = 100

NodeResult = relay.Node | None | GatewayError


async def _resolve_group(
    info: strawberry.Info[Context], node_type: NodeType, node_ids: list[str]
) -> list[NodeResult]:
    try:
        return list(await node_type.resolve_nodes(info=info, node_ids=node_ids))
    except GatewayError as error:
        return [error] * len(node_ids)


async def resolve_global_ids(
    info: strawberry.Info[Context], ids: list[relay.GlobalID]
) -> list[NodeResult]:
    """One ``resolve_nodes`` call per type, concurrently, reassembled in the order asked."""
    if len(ids) > MAX_NODE_IDS:
        raise BadUserInputError(f"At most {MAX_NODE_IDS} ids per request")
    positions: dict[str, list[int]] = defaultdict(list)
    for index, global_id in enumerate(ids):
        if global_id.type_name not in NODE_TYPES:
            raise BadUserInputError(f"No object type named {global_id.type_name!r} has ids")
        positions[global_id.type_name].append(index)
    groups = list(positions.items())
    answers = await asyncio.gather(
        *(
            _resolve_group(info, NODE_TYPES[type_name], [ids[i].node_id for i in indexes])
            for type_name, indexes in groups
        )
    )
    results: list[NodeResult] = [None] * len(ids)
    for (_, indexes), answer in zip(groups, answers, strict=True):
        for index, value in zip(indexes, answer, strict=True):
            results[index] = value
    return results


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global id, authorized as its typed field.")
    async def node(self, info: strawberry.Info[Context], id: relay.GlobalID) -> relay.Node | None:
        (result,) = await resolve_global_ids(info, [id])
        if isinstance(result, GatewayError):
            raise result
        return result

    @strawberry.field(
        description=f"Objects by global id, in the order asked (at most {MAX_NODE_IDS})."
    )
    async def nodes(
        self, info: strawberry.Info[Context], ids: list[relay.GlobalID]
    ) -> list[relay.Node | None]:
        # A GatewayError item becomes an error at [nodes, i]; the other items are served.
        return await resolve_global_ids(info, ids)  # type: ignore[return-value]
