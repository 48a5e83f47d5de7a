"""The demo upstream services on loopback, one server each per session, reset before each test.

The servers are real uvicorn servers (``demo.serve.serving``) reached over HTTP, as the gateway
reaches them; building one is the slow part (the recommender learns at start), so tests share
them and every test starts with no faults and zeroed counters.
"""

from __future__ import annotations

from collections.abc import Iterator
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

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=5.0)


def healthy(client: httpx.Client) -> None:
    """No faults, zeroed counters."""
    client.put("/_faults", json={}).raise_for_status()
    client.post("/_stats/reset").raise_for_status()


@pytest.fixture(scope="session")
def content_service() -> Iterator[RunningService]:
    app = content.create_app(content.ContentConfig())
    with serving(app) as url:
        yield RunningService(app, url)


@pytest.fixture(scope="session")
def recommendations_service() -> Iterator[RunningService]:
    app = recommendations.create_app(recommendations.RecommendationsConfig())
    with serving(app) as url:
        yield RunningService(app, url)


@pytest.fixture
def content_api(content_service: RunningService) -> Iterator[httpx.Client]:
    with content_service.client() as client:
        healthy(client)
        yield client
        healthy(client)


@pytest.fixture
def recommendations_api(recommendations_service: RunningService) -> Iterator[httpx.Client]:
    with recommendations_service.client() as client:
        healthy(client)
        yield client
        healthy(client)
