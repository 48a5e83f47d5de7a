"""A document that fails validation is the caller's fault whatever raised the error inside the
rule: a literal no parser can read (an Int of more than 4,300 digits makes ``int()`` raise
``ValueError``) is ``GRAPHQL_VALIDATION_FAILED``, never a masked 500, and its message does not
quote the whole literal back."""

from __future__ import annotations

import pytest

from tests.helpers import codes

HUGE = "1" + "0" * 5000

DOCUMENTS = [
    pytest.param(
        f"{{ contents(first: {HUGE}) {{ edges {{ node {{ title }} }} }} }}", id="argument"
    ),
    pytest.param(
        f"query($n: Int = {HUGE}) {{ contents(first: $n) {{ pageInfo {{ hasNextPage }} }} }}",
        id="variable-default",
    ),
    pytest.param(
        'mutation { placeOrder(input: {lines: [{contentId: "Q29udGVudDoz", quantity: '
        f"{HUGE}}}]}}) {{ order {{ id }} }} }}",
        id="mutation-input",
    ),
]


@pytest.mark.parametrize("query", DOCUMENTS)
async def test_an_unreadable_literal_is_a_validation_failure_over_post(gateway, query):
    response, statements = await gateway.post({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert len(response.json()["errors"][0]["message"]) <= 300
    assert statements == 0


async def test_an_unreadable_literal_is_a_validation_failure_over_get(gateway):
    query = f"{{ contents(first: {HUGE}) {{ edges {{ node {{ title }} }} }} }}"

    response, statements = await gateway.get({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert statements == 0


async def test_an_unreadable_literal_in_introspection_is_a_validation_failure(gateway):
    query = f'{{ __type(name: "Query") {{ fields(includeDeprecated: {HUGE}) {{ name }} }} }}'

    response, _ = await gateway.post({"query": query})

    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
