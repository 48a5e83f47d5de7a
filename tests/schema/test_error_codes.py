"""Documents that never execute still answer with a contract code."""

from __future__ import annotations


async def test_a_document_that_does_not_parse_is_graphql_parse_failed(gateway):
    response, statements = await gateway.counted("{ me { id ")

    assert response.status == 400
    assert response.data is None
    assert response.codes == ["GRAPHQL_PARSE_FAILED"]
    assert statements == 0


async def test_an_unknown_field_is_graphql_validation_failed(gateway):
    response, statements = await gateway.counted("{ me { shoeSize } }")

    assert response.status == 400
    assert response.data is None
    assert response.codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == 0


async def test_a_variable_of_the_wrong_type_is_bad_user_input(gateway):
    response = await gateway.execute(
        "query($n: Int) { users(first: $n) { edges { cursor } } }", {"n": "many"}
    )

    assert response.status == 400
    assert response.data is None
    assert response.codes == ["BAD_USER_INPUT"]
