"""Ground truth for the REST tests: the same deterministic catalog the content service serves."""

from __future__ import annotations

import base64

import pytest

from demo.catalog import Catalog, ContentStatus, build_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return build_catalog()


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def first_draft(catalog: Catalog) -> int:
    return next(item.id for item in catalog.items if item.status is ContentStatus.DRAFT)
