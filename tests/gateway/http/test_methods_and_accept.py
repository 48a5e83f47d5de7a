"""Methods other than GET and POST, and Accept headers the gateway cannot satisfy: refused with
the right status, in the contract's JSON error shape, before anything is read or run."""

from __future__ import annotations

import pytest

from tests.helpers import codes


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
async def test_another_method_is_405_with_allow_in_the_json_error_shape(gateway, method):
    response, statements = await gateway.request(method)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/json"
    assert codes(response) == ["OPERATION_NOT_ALLOWED"]
    assert statements == 0


async def test_head_is_405_with_allow_and_no_body(gateway):
    response, statements = await gateway.request("HEAD", params={"query": "{ me { id } }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert statements == 0


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png, text/*"])
async def test_an_unsatisfiable_accept_is_406_in_json(gateway, accept):
    response, statements = await gateway.request(
        "POST",
        json={"query": "{ me { id } }"},
        headers={"Content-Type": "application/json", "Accept": accept},
    )

    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json"
    assert codes(response) == ["BAD_USER_INPUT"]
    assert statements == 0


async def test_a_browser_accept_header_is_served_json(gateway):
    response, _ = await gateway.post(
        {"query": "{ __typename }"},
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
