"""The deterministic product catalog that seeded order lines point into.

Order lines reference content by id; the content service (a later capability) serves the same
ids with these prices, so the seeder and the service agree without sharing a database.
"""

from __future__ import annotations

from decimal import Decimal

#: Ids 1..PRODUCT_COUNT are purchasable products.
PRODUCT_COUNT = 200
CURRENCY = "EUR"


def product_price(content_id: int) -> Decimal:
    """A stable price between 4.99 and 103.99 for a product id."""
    if not 1 <= content_id <= PRODUCT_COUNT:
        raise ValueError(f"content id {content_id} is not a product")
    return Decimal(4 + (content_id * 37) % 100) + Decimal("0.99")
