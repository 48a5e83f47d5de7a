"""Manifold as an Apollo Federation v2 subgraph: ``_entities``, ``_service { sdl }`` and
``@key(fields: "id")`` on ``User``, ``Order`` and ``Content``, for a router (Apollo Router, Hive
Gateway, Cosmo) that composes Manifold into a supergraph. Off unless ``GATEWAY_FEDERATION``.

The key is the global id every node already has, so a representation is
``{"__typename": "Order", "id": "T3JkZXI6NDI="}`` and ``_entities`` is ``nodes(ids:)`` under
another name: the same ``resolve_global_ids``, so one ``resolve_nodes`` per type per batch (one
statement or one upstream call through the loaders), and exactly the same authorization as
``node(id:)``: an order that is not yours is ``null``, a type whose scope you lack is an error at
its own index. A representation that is malformed, or whose id names another type, is
``BAD_USER_INPUT`` at its index; its siblings are still served.

The types stay plain Strawberry types, so the schema without federation prints and introspects
exactly as before: the subgraph SDL is the schema's own SDL with the keys and the ``@link`` added
(and the subgraph plumbing left out, as ``buildSubgraphSchema`` prints it), built once per
schema from graphql-core's AST rather than by Strawberry's federation schema, whose ``@key``
would have to be on the shared type definitions.
"""

from __future__ import annotations

from typing import Annotated, Any, NewType

import strawberry
from graphql import (
    ConstArgumentNode,
    ConstDirectiveNode,
    ConstListValueNode,
    DocumentNode,
    NameNode,
    ObjectTypeDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    parse,
    print_ast,
)
from strawberry import relay
from strawberry.types.scalar import ScalarDefinition

from contract.errors import BadUserInputError, GatewayError
from schema.content import Content
from schema.context import Context
from schema.nodes import MAX_NODE_IDS, NODE_TYPES, NodeResult, resolve_global_ids
from schema.orders import Order
from schema.users import User

__all__ = [
    "ENTITY_TYPES",
    "FEDERATION_LINK",
    "PLUMBING_FIELDS",
    "SCALARS",
    "FederationQuery",
    "subgraph_sdl",
]

#: The Federation spec version the SDL links; @key is all Manifold uses.
FEDERATION_LINK = "https://specs.apollo.dev/federation/v2.3"

#: The entities, by GraphQL name, and the field their key is made of.
ENTITY_TYPES = ("User", "Order", "Content")
KEY_FIELDS = "id"

#: The subgraph plumbing on Query: a router's, never part of the API callers see.
PLUMBING_FIELDS = frozenset({"_entities", "_service"})
_PLUMBING_TYPES = frozenset({"_Entity", "_Any", "_Service"})

#: An entity representation, as a router sends it; registered as the ``_Any`` scalar through
#: ``SCALARS`` (the schema's ``scalar_map``).
FederationAny = NewType("FederationAny", object)
SCALARS: dict[object, ScalarDefinition] = {
    FederationAny: strawberry.scalar(
        name="_Any",
        description="A representation of an entity: its __typename and its key fields.",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    )
}

Entity = Annotated[User | Order | Content, strawberry.union("_Entity")]


@strawberry.type(name="_Service")
class Service:
    sdl: str = strawberry.field(description="This subgraph's SDL, as a router composes it.")


def _global_id(representation: Any) -> relay.GlobalID | GatewayError:
    """The global id a representation names, or why it names none."""
    if not isinstance(representation, dict):
        return BadUserInputError("A representation must be an object with __typename and id")
    type_name = representation.get("__typename")
    key = representation.get("id")
    # A representation is the caller's JSON: __typename may be a list or an object, which a
    # membership test would try to hash.
    if not isinstance(type_name, str) or type_name not in NODE_TYPES or not isinstance(key, str):
        return BadUserInputError(
            f"A representation needs a __typename of {', '.join(ENTITY_TYPES)} and a string id"
        )
    try:
        global_id = relay.GlobalID.from_id(key)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return BadUserInputError("Malformed id")
    if global_id.type_name != type_name:
        return BadUserInputError(f"The id is not the id of a {type_name}")
    return global_id


async def resolve_representations(
    info: strawberry.Info[Context], representations: list[Any]
) -> list[NodeResult]:
    """``nodes(ids:)`` over the valid representations, errors at the others' indexes; more
    than ``nodes`` takes is refused whole, malformed ones counted (each costs an error)."""
    if len(representations) > MAX_NODE_IDS:
        raise BadUserInputError(f"At most {MAX_NODE_IDS} representations per request")
    parsed = [_global_id(representation) for representation in representations]
    valid = [item for item in parsed if isinstance(item, relay.GlobalID)]
    resolved = iter(await resolve_global_ids(info, valid))
    return [item if isinstance(item, GatewayError) else next(resolved) for item in parsed]


@strawberry.type
class FederationQuery:
    @strawberry.field(
        name="_entities",
        description="Entities by representation, for a federation router; authorized as "
        "node(id:) is (at most 100 per request).",
    )
    async def entities(
        self, info: strawberry.Info[Context], representations: list[FederationAny]
    ) -> list[Entity | None]:
        # A GatewayError item becomes an error at [_entities, i]; the other items are served.
        return await resolve_representations(info, list(representations))  # type: ignore[return-value]

    @strawberry.field(name="_service", description="This subgraph, for a federation router.")
    def service(self, info: strawberry.Info[Context]) -> Service:
        sdl: str = info.schema.subgraph_sdl  # type: ignore[attr-defined]
        return Service(sdl=sdl)


def _key() -> ConstDirectiveNode:
    return ConstDirectiveNode(
        name=NameNode(value="key"),
        arguments=(
            ConstArgumentNode(
                name=NameNode(value="fields"), value=StringValueNode(value=KEY_FIELDS)
            ),
        ),
    )


def _link() -> SchemaExtensionNode:
    return SchemaExtensionNode(
        directives=(
            ConstDirectiveNode(
                name=NameNode(value="link"),
                arguments=(
                    ConstArgumentNode(
                        name=NameNode(value="url"), value=StringValueNode(value=FEDERATION_LINK)
                    ),
                    ConstArgumentNode(
                        name=NameNode(value="import"),
                        value=ConstListValueNode(values=(StringValueNode(value="@key"),)),
                    ),
                ),
            ),
        ),
        operation_types=(),
    )


def subgraph_sdl(schema_sdl: str) -> str:
    """The SDL a router composes: ``schema_sdl`` with ``@link``, the entity keys, and without
    the plumbing (``_entities``, ``_service`` and their types), which routers add themselves."""
    document = parse(schema_sdl)
    definitions: list[Any] = [_link()]
    for definition in document.definitions:
        name = getattr(getattr(definition, "name", None), "value", None)
        if name in _PLUMBING_TYPES:
            continue
        if isinstance(definition, ObjectTypeDefinitionNode):
            fields = definition.fields or ()
            if name == "Query":
                fields = tuple(field for field in fields if field.name.value not in PLUMBING_FIELDS)
            directives = definition.directives or ()
            if name in ENTITY_TYPES:
                directives = (*directives, _key())
            definitions.append(
                ObjectTypeDefinitionNode(
                    name=definition.name,
                    description=definition.description,
                    interfaces=definition.interfaces,
                    directives=directives,
                    fields=fields,
                )
            )
            continue
        definitions.append(definition)
    return print_ast(DocumentNode(definitions=tuple(definitions)))
