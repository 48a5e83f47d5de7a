"""One walk per document tells limits, cost and introspection what they need; pure, no server."""

from __future__ import annotations

from graphql import OperationType, parse

from gateway.operations.analysis import Shape, analyse


def shape(query: str) -> Shape:
    return analyse(parse(query)).shape


def test_depth_counts_nested_fields():
    assert shape("{ me { orders { edges { node { id } } } } }").depth == 5


def test_depth_counts_through_fragments():
    query = """
        { me { ...Orders } }
        fragment Orders on User { orders { edges { ... on OrderEdge { node { id } } } } }
    """
    assert shape(query).depth == 5


def test_introspection_subtrees_do_not_count_towards_depth():
    assert shape("{ __schema { types { fields { type { ofType { name } } } } } }").depth == 0


def test_aliases_inside_fragments_count_once_per_spread():
    query = "{ a: me { ...Names } b: me { ...Names } } fragment Names on User { x: name }"
    assert shape(query).aliases == 4


def test_a_fragment_bomb_is_measured_without_expanding_it():
    fragments = ["fragment F0 on User { a: name }"] + [
        f"fragment F{n} on User {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 40)
    ]
    # 2**39 aliases: counted, never expanded (expanding would never finish).
    assert shape("{ me { ...F39 } } " + " ".join(fragments)).aliases == 2**39


def test_a_fragment_cycle_is_measured_without_looping():
    query = "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A id }"
    assert shape(query).depth == 2


def test_directives_count_on_fields_fragments_operations_and_variables():
    query = """
        query Q($v: Int @deprecated) @skip(if: false) {
          me @include(if: true) { ...F @skip(if: false) }
        }
        fragment F on User @include(if: true) { id }
    """
    assert shape(query).directives == 5


def test_root_fields_count_through_fragments():
    query = "{ me { id } again: me { id } ...More } fragment More on Query { me { id } }"
    assert shape(query).root_fields == 3


def test_the_worst_operation_of_a_document_is_its_shape():
    query = "query Small { me { id } } query Deep { me { orders { edges { node { id } } } } }"
    assert shape(query).depth == 5


def test_root_field_names_come_through_fragments():
    query = "{ me { id } ...More } fragment More on Query { ... { rateLimit { cost } } }"
    (operation,) = analyse(parse(query)).operations
    assert operation.root_fields == {"me", "rateLimit"}


def test_an_operation_asks_introspection_when_it_selects_schema_or_type():
    analysis = analyse(parse('query A { __type(name: "User") { name } } query B { __typename }'))
    asking = {
        op.node.name.value: op.asks_introspection for op in analysis.operations if op.node.name
    }
    assert asking == {"A": True, "B": False}


def test_the_only_operation_is_selected_without_a_name():
    analysis = analyse(parse("mutation { revokeApiKey(id: 1) { id } }"))
    selected = analysis.operation(None)
    assert selected is not None
    assert selected.kind is OperationType.MUTATION


def test_several_operations_need_a_name_to_select_one():
    analysis = analyse(parse("query A { me { id } } query B { me { name } }"))
    assert analysis.operation(None) is None
    selected = analysis.operation("B")
    assert selected is not None
    assert selected.node.name is not None
    assert selected.node.name.value == "B"
    assert analysis.operation("C") is None
