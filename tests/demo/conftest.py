"""The demo upstream services on loopback, one server each per session, reset before each test.

The servers are real uvicorn servers (``demo.serve.serving``) reached over HTTP, as the gateway
reaches them; building one is the slow part (the recommender learns at start), so tests share
them and every test starts with no faults and zeroed counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from demo import content, recommendations
from demo.serve import serving


@dataclass(frozen=True, slots=True)
class RunningService:
    app: Starlette
    url: str
    #: One kept-alive client per session: building a client costs an SSL context (~0.1 s).
    client: httpx.Client


def healthy(client: httpx.Client) -> None:
    """No faults, zeroed counters."""
    client.put("/_faults", json={}).raise_for_status()
    client.post("/_stats/reset").raise_for_status()


@contextmanager
def running(app: Starlette) -> Iterator[RunningService]:
    with serving(app) as url, httpx.Client(base_url=url, timeout=5.0) as client:
        yield RunningService(app, url, client)


@pytest.fixture(scope="session")
def content_service() -> Iterator[RunningService]:
    with running(content.create_app(content.ContentConfig())) as service:
        yield service


@pytest.fixture(scope="session")
def recommendations_service() -> Iterator[RunningService]:
    with running(recommendations.create_app(recommendations.RecommendationsConfig())) as service:
        yield service


@pytest.fixture
def content_api(content_service: RunningService) -> Iterator[httpx.Client]:
    healthy(content_service.client)
    yield content_service.client
    healthy(content_service.client)


@pytest.fixture
def recommendations_api(recommendations_service: RunningService) -> Iterator[httpx.Client]:
    healthy(recommendations_service.client)
    yield recommendations_service.client
    healthy(recommendations_service.client)
