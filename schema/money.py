"""Money as a decimal string: floats cannot represent cents."""

from __future__ import annotations

from decimal import Decimal

import strawberry

_CENTS = Decimal("0.01")


@strawberry.type(description="An amount of money; `amount` is a decimal string, never a float.")
class Money:
    amount: str = strawberry.field(description='Decimal amount, e.g. "19.99".')
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        return cls(amount=str(amount.quantize(_CENTS)), currency=currency)
