"""The federated schema (``schema.federation``): its subgraph SDL, its scoped views, its price
(pure: the real schema, no services)."""

from __future__ import annotations

import itertools

import pytest
from graphql import build_ast_schema, parse, validate

from auth.principal import Principal, PrincipalKind
from contract.scopes import Scope
from gateway.demand.cost import operation_cost
from schema import build_schema
from schema.federation import ENTITY_TYPES, subgraph_sdl
from schema.visibility import ScopedSchemas


@pytest.fixture(scope="module")
def federated():
    return build_schema(federation=True)


def test_the_schema_without_federation_is_unchanged_by_it(federated):
    plain = build_schema()

    assert "_entities" not in plain.as_str()
    assert "_service" not in plain.as_str()
    assert federated.subgraph_sdl is not None
    assert plain.subgraph_sdl is None


def test_the_subgraph_sdl_keys_each_entity_by_its_global_id(federated):
    document = parse(federated.subgraph_sdl)
    keyed = {
        definition.name.value
        for definition in document.definitions
        if any(
            directive.name.value == "key"
            for directive in getattr(definition, "directives", ()) or ()
        )
        and hasattr(definition, "name")
    }

    assert keyed == set(ENTITY_TYPES)


def test_the_subgraph_sdl_is_the_api_without_the_plumbing(federated):
    sdl = federated.subgraph_sdl
    # Without the federation directives' definitions (a router supplies them), the rest of the
    # SDL is a valid schema equal to the one callers use.
    without_federation = sdl.replace(' @key(fields: "id")', "").split("\n", 1)[1]
    api = build_ast_schema(parse(without_federation))

    assert set(api.type_map) == set(build_ast_schema(parse(build_schema().as_str())).type_map)
    assert api.query_type is not None
    assert "_entities" not in api.query_type.fields


def test_subgraph_sdl_is_stable_across_builds(federated):
    assert subgraph_sdl(federated.as_str()) == federated.subgraph_sdl


def test_every_scoped_view_of_the_federated_schema_builds_without_the_plumbing(federated):
    views = ScopedSchemas(federated._schema)
    scopes = [str(scope) for scope in Scope]
    for count in range(len(scopes) + 1):
        for granted in itertools.combinations(scopes, count):
            caller = Principal(PrincipalKind.USER, "s", frozenset(granted))
            view = views.for_caller(caller.satisfies)
            assert view.query_type is not None
            assert "_entities" not in view.query_type.fields
            assert "_Entity" not in view.type_map
            assert validate(view, parse("{ __typename }")) == []


def test_entities_are_priced_per_representation(federated):
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders(first: 5) { edges { cursor } } } } }"

    one = operation_cost(federated._schema, parse(query), variables={"r": [{}]})
    three = operation_cost(federated._schema, parse(query), variables={"r": [{}, {}, {}]})

    assert three - 1 == 3 * (one - 1)
