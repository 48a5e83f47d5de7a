"""The cost table: what representative operations cost, on the real schema and on the fields
being added alongside (content, recommendations), priced without naming them anywhere."""

from __future__ import annotations

import time
from typing import Any

import pytest
import strawberry
from graphql import parse

from gateway.demand.cost import CostModel, operation_cost
from schema import build_schema
from schema.rate_limit import FREE_TYPES

MODEL = CostModel(default_first=20, mutation_base=10, free_types=FREE_TYPES)

REAL_SCHEMA_COSTS: list[tuple[str, dict[str, Any] | None, int]] = [
    # scalars are free; one object is 1
    ("{ me { name email createdAt } }", None, 1),
    # users 1 + 10 x (edges 1 + node 1)
    ("{ users(first: 10) { edges { node { name } } } }", None, 21),
    # no `first`: its schema default (20)
    ("{ users { edges { node { name } } } }", None, 41),
    # pageInfo is an object too
    ("{ users(first: 5) { pageInfo { hasNextPage } edges { cursor } } }", None, 11),
    # nested connections multiply: orders = 1 + 5 x (edges 1 + node 1 + lines 1) = 16
    (
        "{ users(first: 10) { edges { node { orders(first: 5) { edges { node { number lines { quantity } } } } } } } }",
        None,
        1 + 10 * (1 + 1 + 16),
    ),
    # variables, and a variable's default
    ("query($n: Int) { users(first: $n) { edges { node { id } } } }", {"n": 50}, 101),
    ("query($n: Int = 7) { users(first: $n) { edges { node { id } } } }", None, 15),
    # nodes(ids) multiplies by the number of ids; inline fragments count
    (
        '{ nodes(ids: ["VXNlcjox", "VXNlcjoy", "VXNlcjoz"]) { id ... on User { orders(first: 2) { edges { node { number } } } } } }',
        None,
        1 + 3 * (1 + 2 * 2),
    ),
    # named fragments count where they are spread
    (
        'fragment O on User { orders(first: 2) { edges { node { number } } } } { me { ...O } user(id: "VXNlcjox") { ...O } }',
        None,
        2 * (1 + 5),
    ),
    # order lines, money and customers are objects
    (
        '{ order(id: "T3JkZXI6MQ==") { total { amount } customer { name } lines { unitPrice { amount } } } }',
        None,
        1 + 1 + 1 + 1 + 1,
    ),
    # checking the budget and introspection are free
    ("{ rateLimit { cost limit remaining resetAt } }", None, 0),
    ("{ __schema { types { name fields { name } } } }", None, 0),
    # mutations add their base cost
    ('mutation { revokeApiKey(id: "abc") { id } }', None, 10 + 1),
    # REST-backed fields are priced by the same rules: contents 1 + 10 x (edges, node, author)
    ("{ contents(first: 10) { edges { node { title author { name } } } } }", None, 31),
    # recommendations(first) multiplies its items like a connection
    ("{ recommendations(first: 5) { score content { title } } }", None, 1 + 5 * 1),
    # SQL -> REST -> SQL: me + orders(1 + 10 x (edges, node, lines, content, author))
    (
        "{ me { orders(first: 10) { edges { node { lines { content { title author { name } } } } } } } }",
        None,
        1 + 1 + 10 * 5,
    ),
]


@pytest.mark.parametrize(("query", "variables", "expected"), REAL_SCHEMA_COSTS)
def test_cost_of_representative_operations(query: str, variables, expected: int):
    schema = build_schema()._schema

    assert operation_cost(schema, parse(query), variables=variables, model=MODEL) == expected


def test_the_named_operation_is_the_one_priced():
    document = parse(
        "query Small { me { name } } query Big { users(first: 50) { edges { cursor } } }"
    )
    schema = build_schema()._schema

    assert operation_cost(schema, document, operation_name="Small", model=MODEL) == 1
    assert operation_cost(schema, document, operation_name="Big", model=MODEL) == 51


# A stand-in for the content and recommendations fields landing in parallel, with their
# contract shapes: the model must price them from argument names and types alone.


@strawberry.type
class Author:
    name: str


@strawberry.type
class Content:
    title: str
    tags: list[str]

    @strawberry.field
    def author(self) -> Author | None:
        return None


@strawberry.type
class ContentEdge:
    cursor: str
    node: Content


@strawberry.type
class ContentConnection:
    edges: list[ContentEdge]


@strawberry.type
class Recommendation:
    score: float

    @strawberry.field
    def content(self) -> Content | None:
        return None


@strawberry.type
class Query:
    @strawberry.field
    def contents(
        self, first: int | None = 20, after: str | None = None, tag: str | None = None
    ) -> ContentConnection:
        return ContentConnection(edges=[])

    @strawberry.field
    def recommendations(self, first: int | None = 10) -> list[Recommendation]:
        return []


PARALLEL_SCHEMA_COSTS = [
    # contents 1 + 10 x (edges 1 + node 1 + author 1)
    ('{ contents(first: 10, tag: "x") { edges { node { title tags author { name } } } } }', 31),
    # a list with `first`: recommendations 1 + 5 x (content 1 + author 1)
    ("{ recommendations(first: 5) { score content { title author { name } } } }", 11),
    # its default when absent (10 here)
    ("{ recommendations { score } }", 1),
    ("{ recommendations { content { title } } }", 11),
]


@pytest.mark.parametrize(("query", "expected"), PARALLEL_SCHEMA_COSTS)
def test_fields_added_elsewhere_are_priced_by_their_arguments_and_types(query: str, expected: int):
    schema = strawberry.Schema(query=Query)._schema

    assert operation_cost(schema, parse(query), model=MODEL) == expected


# Fragment bombs: each fragment spreads the one below it ten times, so re-walking fragments at
# every spread takes time exponential in the depth. A fragment is priced once per document.


def fragment_bomb(depth: int, leaf: str) -> str:
    spreads = " ".join(["...F{below}"] * 10)
    fragments = [f"fragment F0 on Content {{ {leaf} }}"] + [
        f"fragment F{level} on Content {{ {spreads.format(below=level - 1)} }}"
        for level in range(1, depth + 1)
    ]
    return f'{{ content(id: "Q29udGVudDox") {{ ...F{depth} }} }} ' + " ".join(fragments)


def timed_cost(query: str, **options: Any) -> tuple[int, float]:
    schema = build_schema()._schema
    document = parse(query)
    started = time.perf_counter()
    cost = operation_cost(schema, document, model=MODEL, **options)
    return cost, time.perf_counter() - started


def test_a_fragment_bomb_of_scalars_is_priced_at_once_as_its_one_object():
    cost, seconds = timed_cost(fragment_bomb(7, "title"))

    assert cost == 1  # content; every spread selects only scalars
    assert seconds < 1.0  # ~1 ms; re-walking each spread took 22 s


@pytest.mark.parametrize("depth", [7, 30])
def test_a_fragment_bomb_is_priced_exactly_without_walking_every_spread(depth: int):
    cost, seconds = timed_cost(fragment_bomb(depth, "author { name }"))

    assert cost == 1 + 10**depth  # content + 10^depth authors
    assert seconds < 1.0


@pytest.mark.parametrize("depth", [7, 30])
def test_pricing_stops_once_the_cost_passes_the_ceiling(depth: int):
    cost, seconds = timed_cost(fragment_bomb(depth, "author { name }"), ceiling=1000)

    assert 1000 < cost <= 1 + 10**depth  # a lower bound, already above the ceiling
    assert seconds < 1.0


def test_a_ceiling_does_not_change_the_cost_of_an_operation_below_it():
    query = (
        "{ users(first: 10) { edges { node { orders(first: 5) { edges { node { number } } } } } } }"
    )
    schema = build_schema()._schema

    assert operation_cost(schema, parse(query), model=MODEL, ceiling=131) == 131
    assert operation_cost(schema, parse(query), model=MODEL) == 131


def test_a_fragment_spread_inside_itself_costs_nothing_more():
    # Validation refuses cycles; pricing must still terminate if it ever sees one.
    query = '{ user(id: "VXNlcjox") { ...A } } fragment A on User { orders(first: 2) { edges { node { customer { ...A } } } } }'
    schema = build_schema()._schema

    assert operation_cost(schema, parse(query), model=MODEL) == 1 + 1 + 2 * (1 + 1 + 1)


def test_a_first_above_the_page_limit_is_priced_as_the_most_it_could_fetch():
    schema = build_schema()._schema
    asked = operation_cost(
        schema, parse("{ users(first: 4000) { edges { node { name } } } }"), model=MODEL
    )
    most = operation_cost(
        schema, parse("{ users(first: 100) { edges { node { name } } } }"), model=MODEL
    )

    assert asked == most == 1 + 100 * 2
