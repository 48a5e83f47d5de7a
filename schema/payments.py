"""GraphQL presentation of an order's payment."""

from __future__ import annotations

from enum import Enum

import strawberry

from datasources.payments import PaymentRecord
from datasources.tables import PaymentStatus as StoredPaymentStatus
from schema.money import Money


@strawberry.enum(description="Where an order's payment is at the payment provider.")
class PaymentStatus(Enum):
    NOT_STARTED = strawberry.enum_value(
        "NOT_STARTED",
        description="The provider has not answered yet: retry placeOrder with the same "
        "idempotency key (or wait: the gateway resumes it).",
    )
    PROCESSING = strawberry.enum_value(
        "PROCESSING", description="The provider is taking the payment."
    )
    AUTHORIZED = strawberry.enum_value(
        "AUTHORIZED", description="The amount is reserved, not yet captured."
    )
    PAID = strawberry.enum_value("PAID", description="The amount was captured.")
    FAILED = strawberry.enum_value(
        "FAILED", description="The payment was declined; the order stays PENDING."
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Voided before capture: nothing was taken."
    )
    REFUND_PENDING = strawberry.enum_value(
        "REFUND_PENDING", description="A refund was requested from the provider."
    )
    REFUNDED = strawberry.enum_value("REFUNDED", description="The amount was given back.")


_FROM_STORED = {stored: PaymentStatus[stored.name] for stored in StoredPaymentStatus}


@strawberry.type(description="An order's payment.")
class Payment:
    status: PaymentStatus
    amount: Money
    failure_reason: str | None = strawberry.field(
        description="Why the provider declined it, when it did."
    )
    client_secret: str | None = strawberry.field(
        description="For the provider's browser SDK, to confirm the payment on the customer's "
        "device. Only in placeOrder's payload; null elsewhere."
    )

    @classmethod
    def from_record(cls, record: PaymentRecord, *, with_secret: bool = False) -> Payment:
        return cls(
            status=_FROM_STORED[record.status],
            amount=Money.of(record.amount, record.currency),
            failure_reason=record.failure_reason,
            client_secret=record.client_secret if with_secret else None,
        )
