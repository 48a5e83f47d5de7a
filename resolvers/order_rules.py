"""What makes an order valid, checked before anything is written: pure functions.

Every refusal is ``BAD_USER_INPUT`` naming the input field at fault in ``extensions.field``
(``["input", "lines", 2, "quantity"]``, indexes from 0), so a client can point at the line. The
client sends product ids and quantities only: unit prices and the total come from the content
service at order time, and nothing a client says about money is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contract.errors import BadUserInputError
from contract.text import is_printable
from datasources.content import ContentKind, ContentRecord
from datasources.order_writes import NewLine

MAX_LINES = 50
MIN_QUANTITY = 1
MAX_QUANTITY = 99
MAX_REASON_LENGTH = 500
_CURRENCY = re.compile(r"[A-Z]{3}")
_VOWELS = frozenset("aeiou")

FieldPath = list[str | int]


@dataclass(frozen=True, slots=True)
class LineInput:
    content_id: int
    quantity: int


def input_error(message: str, *path: str | int) -> BadUserInputError:
    """``BAD_USER_INPUT`` naming the field at ``input.<path>``."""
    field: FieldPath = ["input", *path]
    return BadUserInputError(message, extensions={"field": field})


def line_error(index: int, field: str, message: str) -> BadUserInputError:
    return input_error(f"lines[{index}].{field}: {message}", "lines", index, field)


def with_article(noun: str) -> str:
    """``noun`` after its indefinite article: "an article", "a video" (by its first letter)."""
    return f"{'an' if noun[:1].lower() in _VOWELS else 'a'} {noun}"


def check_lines(lines: Sequence[LineInput]) -> list[LineInput]:
    """1 to ``MAX_LINES`` lines, quantities within bounds, each product once."""
    if not lines:
        raise input_error("An order needs at least one line.", "lines")
    if len(lines) > MAX_LINES:
        raise input_error(f"An order has at most {MAX_LINES} lines; got {len(lines)}.", "lines")
    first_line: dict[int, int] = {}
    for index, line in enumerate(lines):
        if not MIN_QUANTITY <= line.quantity <= MAX_QUANTITY:
            raise line_error(
                index, "quantity", f"must be {MIN_QUANTITY} to {MAX_QUANTITY}; got {line.quantity}"
            )
        earlier = first_line.setdefault(line.content_id, index)
        if earlier != index:
            raise line_error(
                index, "contentId", f"repeats the product of lines[{earlier}]: raise its quantity"
            )
    return list(lines)


def check_currency(currency: str | None) -> str | None:
    if currency is None:
        return None
    if not _CURRENCY.fullmatch(currency):
        raise input_error("currency must be an ISO 4217 code such as EUR.", "currency")
    return currency


def priced_lines(
    lines: Sequence[LineInput],
    products: Mapping[int, ContentRecord],
    currency: str | None,
) -> tuple[str, list[NewLine]]:
    """Each line at the product's current price, and the order's currency.

    Unknown ids and drafts read alike ("no purchasable product"), so an order cannot be used
    to find out which unpublished ids exist; articles and videos are not for sale.
    """
    priced: list[NewLine] = []
    currencies: set[str] = set()
    for index, line in enumerate(lines):
        product = products.get(line.content_id)
        if product is None or not product.published:
            raise line_error(index, "contentId", "no purchasable product has this id")
        if product.kind is not ContentKind.PRODUCT or product.price is None:
            raise line_error(
                index, "contentId", f"{with_article(product.kind.value)} cannot be ordered"
            )
        if product.currency is None:
            raise line_error(index, "contentId", "this product has no price")
        currencies.add(product.currency)
        priced.append(NewLine(line.content_id, line.quantity, product.price))
    if len(currencies) > 1:
        raise input_error("These products are priced in different currencies.", "lines")
    (priced_in,) = currencies
    if currency is not None and currency != priced_in:
        raise input_error(f"These products are priced in {priced_in}, not {currency}.", "currency")
    return priced_in, priced


def order_total(lines: Sequence[NewLine]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))


def check_reason(reason: str | None) -> str | None:
    """A cancellation's reason: trimmed, at most 500 characters, printable on one line as a
    name is (it is kept with the order and sent to the provider); blank is no reason."""
    if reason is None:
        return None
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH or not is_printable(reason):
        raise input_error(
            f"reason must be at most {MAX_REASON_LENGTH} printable characters.", "reason"
        )
    return reason or None
