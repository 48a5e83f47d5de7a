"""Introspection by scope: the schema as one caller may use it.

Each gated field carries its ``@requiresScopes`` requirement (a ``RequiresScopes`` permission);
a caller's view drops every field whose requirement it does not satisfy, then every field whose
type has no field left, then every type no longer reachable from a root (``Order``, reachable
only through gated fields, disappears for a ``content:read`` token). Introspection answered from
this view shows a partner exactly its own API, and ``__type(name: "Order")`` answers ``null``.

A federation subgraph's plumbing (``_entities``, ``_service``) is in no caller's view: a router
reads the SDL with a query, not by introspection, and ``_entities`` would otherwise make every
entity type reachable (``Order`` included) for anyone.

Views are built lazily and cached per set of satisfied requirements (not per token or scope
set), so their number is bounded by the schema, not by callers. Resolvers are shared with the
full schema; only introspection executes against a view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_introspection_type,
)
from graphql.utilities.map_schema_config import SchemaElementKind, map_schema_config
from strawberry.permission import PermissionExtension

from auth.access import Requirement
from schema.federation import PLUMBING_FIELDS
from schema.permissions import RequiresScopes

FieldKey = tuple[str, str]


def _requirements(field: GraphQLField) -> tuple[Requirement, ...]:
    definition = (field.extensions or {}).get("strawberry-definition")
    found: list[Requirement] = []
    for extension in getattr(definition, "extensions", None) or ():
        if isinstance(extension, PermissionExtension):
            found.extend(
                permission.requirement
                for permission in extension.permissions
                if isinstance(permission, RequiresScopes)
            )
    return tuple(found)


def _object_like(schema: GraphQLSchema) -> list[GraphQLObjectType | GraphQLInterfaceType]:
    return [
        named
        for named in schema.type_map.values()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
        and not is_introspection_type(named)
    ]


class ScopedSchemas:
    """Per-caller views of one GraphQL schema, built once per set of satisfied requirements."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.gated: dict[FieldKey, tuple[Requirement, ...]] = {}
        for named in _object_like(schema):
            for name, field in named.fields.items():
                requirements = _requirements(field)
                if requirements:
                    self.gated[(named.name, name)] = requirements
        self.requirements = frozenset(r for rs in self.gated.values() for r in rs)
        query = schema.query_type
        self.plumbing: frozenset[FieldKey] = frozenset(
            (query.name, name) for name in PLUMBING_FIELDS if query and name in query.fields
        )
        self._views: dict[frozenset[Requirement], GraphQLSchema] = {}

    def for_caller(self, satisfies: Callable[[Requirement], bool]) -> GraphQLSchema:
        granted = frozenset(r for r in self.requirements if satisfies(r))
        view = self._views.get(granted)
        if view is None:
            view = self._views[granted] = self._build(granted)
        return view

    def _hidden(self, granted: frozenset[Requirement]) -> set[FieldKey]:
        hidden = {
            key
            for key, requirements in self.gated.items()
            if not all(requirement in granted for requirement in requirements)
        } | self.plumbing
        types = _object_like(self.schema)
        while True:  # a field whose type lost every field must go too
            empty = {
                named.name
                for named in types
                if all((named.name, name) in hidden for name in named.fields)
            }
            more = {
                (named.name, name)
                for named in types
                for name, field in named.fields.items()
                if (named.name, name) not in hidden and get_named_type(field.type).name in empty
            }
            if not more:
                return hidden
            hidden |= more

    def _build(self, granted: frozenset[Requirement]) -> GraphQLSchema:
        hidden = self._hidden(granted)

        def visible_fields(config: dict[str, Any]) -> dict[str, Any]:
            fields: Callable[[], dict[str, GraphQLField]] = config["fields"]
            name = config["name"]
            return {
                **config,
                "fields": lambda: {
                    field_name: field
                    for field_name, field in fields().items()
                    if (name, field_name) not in hidden
                },
            }

        emptied_roots = {
            kind
            for kind, root in (
                ("mutation", self.schema.mutation_type),
                ("subscription", self.schema.subscription_type),
            )
            if root is not None and all((root.name, name) in hidden for name in root.fields)
        }

        def reachable_only(config: dict[str, Any]) -> dict[str, Any]:
            # No explicit type list: graphql-core collects what the roots still reach. A root
            # whose every field is hidden goes too (an empty type is not a valid schema).
            return {**config, "types": (), **dict.fromkeys(emptied_roots)}

        mapper = {
            SchemaElementKind.OBJECT: visible_fields,
            SchemaElementKind.INTERFACE: visible_fields,
            SchemaElementKind.SCHEMA: reachable_only,
        }
        kwargs = map_schema_config(self.schema.to_kwargs(), lambda _context: mapper)  # type: ignore[arg-type,return-value]
        return GraphQLSchema(**kwargs)
