"""Money as a decimal string: floats cannot represent cents."""

from __future__ import annotations

from decimal import Decimal

import strawberry

_CENTS = Decimal("0.01")

#: Prices repeat (a catalogue has few of them, and a list of order lines repeats them again),
#: and a ``Money`` is never changed once made: one instance per amount and currency saves
#: rounding and formatting the same number for every line of every answer. Bounded so that
#: arbitrary amounts cannot grow it without limit.
_KNOWN: dict[tuple[Decimal, str], Money] = {}
_KNOWN_LIMIT = 4096


@strawberry.type(description="An amount of money; `amount` is a decimal string, never a float.")
class Money:
    amount: str = strawberry.field(description='Decimal amount, e.g. "19.99".')
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        key = (amount, currency)
        known = _KNOWN.get(key)
        if known is None:
            if len(_KNOWN) >= _KNOWN_LIMIT:
                _KNOWN.clear()
            known = _KNOWN[key] = cls(amount=str(amount.quantize(_CENTS)), currency=currency)
        return known
