"""Per-caller views of a schema, on a small inline schema with a gated Mutation root."""

from __future__ import annotations

import strawberry
from graphql import parse, validate

from auth.access import any_of
from auth.principal import Principal, PrincipalKind
from schema.permissions import scoped
from schema.visibility import ScopedSchemas


@strawberry.type
class Secret:
    value: str


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field(**scoped(any_of("secrets:read"), "A secret."))
    def secret(self) -> Secret:
        return Secret(value="s")


@strawberry.type
class Mutation:
    @strawberry.field(**scoped(any_of("secrets:write"), "Change the secret."))
    def rotate(self) -> Secret:
        return Secret(value="t")


def caller(*scopes: str) -> Principal:
    return Principal(kind=PrincipalKind.USER, subject="s", scopes=frozenset(scopes))


def views() -> ScopedSchemas:
    return ScopedSchemas(strawberry.Schema(query=Query, mutation=Mutation)._schema)


def test_a_root_with_no_visible_field_is_dropped_and_the_view_stays_valid():
    view = views().for_caller(caller().satisfies)

    assert view.mutation_type is None
    assert "Secret" not in view.type_map
    assert validate(view, parse("{ hello }")) == []


def test_a_caller_with_the_scope_sees_the_root_and_its_type():
    view = views().for_caller(caller("secrets:write").satisfies)

    assert view.mutation_type is not None
    assert "Secret" in view.type_map
    assert "secret" not in view.type_map["Query"].fields  # type: ignore[attr-defined]


def test_views_are_shared_by_callers_granted_the_same_requirements():
    scoped_schemas = views()

    first = scoped_schemas.for_caller(caller("secrets:read", "unrelated").satisfies)
    second = scoped_schemas.for_caller(caller("secrets:read").satisfies)

    assert first is second
