"""Money is formatted to cents, whatever the scale it was stored with."""

from __future__ import annotations

from decimal import Decimal

from schema import money
from schema.money import Money


def test_amount_is_rounded_to_cents() -> None:
    assert Money.of(Decimal("19.9"), "EUR").amount == "19.90"
    assert Money.of(Decimal("3.14159"), "EUR").amount == "3.14"


def test_equal_amounts_of_different_scale_read_the_same() -> None:
    assert Money.of(Decimal("5.00"), "USD").amount == Money.of(Decimal("5"), "USD").amount


def test_the_currency_is_kept_apart_from_the_amount() -> None:
    assert Money.of(Decimal("1.00"), "USD").currency == "USD"
    assert Money.of(Decimal("1.00"), "EUR").currency == "EUR"


def test_remembered_amounts_stay_bounded() -> None:
    for cents in range(money._KNOWN_LIMIT * 2):
        Money.of(Decimal(cents) / 100, "EUR")
    assert len(money._KNOWN) <= money._KNOWN_LIMIT
