"""The GraphQL enums are contract values declared in the schema, not the database's names: a
renamed database value must not rename them, and every stored value has its public name."""

from __future__ import annotations

from datasources.content import ContentKind as StoredContentKind
from datasources.tables import OrderStatus as StoredOrderStatus
from schema import build_schema


def enum_values(name: str) -> list[str]:
    return list(build_schema()._schema.type_map[name].values)  # type: ignore[attr-defined]


def test_order_statuses_are_the_published_values():
    assert enum_values("OrderStatus") == ["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]


def test_content_kinds_are_the_published_values():
    assert enum_values("ContentKind") == ["ARTICLE", "VIDEO", "PRODUCT"]


def test_every_stored_order_status_has_a_public_name():
    from schema.orders import _FROM_STORED  # noqa: PLC0415

    assert set(_FROM_STORED) == set(StoredOrderStatus)


def test_every_stored_content_kind_has_a_public_name():
    from schema.content import _FROM_STORED  # noqa: PLC0415

    assert set(_FROM_STORED) == set(StoredContentKind)
