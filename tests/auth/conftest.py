"""A local RFC 7662 introspection endpoint, for opaque bearer tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.introspection_server import IntrospectionServer, running_introspection_server


@pytest.fixture(scope="session")
def introspection_server() -> Iterator[IntrospectionServer]:
    with running_introspection_server() as server:
        yield server


@pytest.fixture
def introspection(introspection_server: IntrospectionServer) -> IntrospectionServer:
    introspection_server.reset()
    return introspection_server
