"""Money as a decimal string: floats cannot represent cents."""

from __future__ import annotations

from decimal import Decimal

import strawberry

_CENTS = Decimal("0.01")

#: Prices repeat (a catalogue has few of them, and a list of order lines repeats them again),
#: and a ``Money`` is never changed once made: one instance per amount and currency saves
#: rounding the same number and building the same object for every line of every answer.
#: Keyed by the amount's text, not the ``Decimal``: hashing a fresh ``Decimal`` costs several
#: times more than formatting it. Bounded so that arbitrary amounts cannot grow it for ever.
_KNOWN: dict[tuple[str, str], Money] = {}
_KNOWN_LIMIT = 4096


@strawberry.type(description="An amount of money; `amount` is a decimal string, never a float.")
class Money:
    amount: str = strawberry.field(description='Decimal amount, e.g. "19.99".')
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        key = (str(amount), currency)
        known = _KNOWN.get(key)
        if known is None:
            if len(_KNOWN) >= _KNOWN_LIMIT:
                _KNOWN.clear()
            known = _KNOWN[key] = cls(amount=str(amount.quantize(_CENTS)), currency=currency)
        return known
