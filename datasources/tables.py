"""Table definitions shared by the queries, the migrations and the seeder.

SQLAlchemy Core tables rather than ORM classes: the hot paths are batch ``SELECT``s with explicit
columns, and Core keeps them free of identity-map overhead.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect

from datasources.timeutil import as_utc

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY auto-increments).
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC on every dialect and read back timezone-aware.

    SQLite keeps datetimes as text: without this, an aware non-UTC value is stored as its wall
    clock, and keyset cursors compare strings of mixed formats.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return as_utc(value)


def utc_now() -> datetime:
    return datetime.now(UTC)


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class PaymentStatus(enum.StrEnum):
    """Where an order's payment is; the transitions are in ``datasources.order_states``."""

    NOT_STARTED = "NOT_STARTED"
    PROCESSING = "PROCESSING"
    AUTHORIZED = "AUTHORIZED"
    PAID = "PAID"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"


users = Table(
    "users",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("subject", String(255), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
)

orders = Table(
    "orders",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "status",
        Enum(OrderStatus, name="order_status", native_enum=True, validate_strings=True),
        nullable=False,
    ),
    Column("currency", String(3), nullable=False),
    Column("total", Numeric(12, 2), nullable=False),
    Column("placed_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    Column(
        "version",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        comment="Bumped by every state change; the sequence number of the order's events.",
    ),
    Column(
        "cancellation_reason",
        String(500),
        nullable=True,
        comment="Why the customer or staff cancelled it (cancelOrder's reason).",
    ),
    # Keyset pagination of one customer's orders, newest first, and of all orders for staff.
    Index("ix_orders_user_id_placed_at_id", "user_id", "placed_at", "id"),
    Index("ix_orders_placed_at_id", "placed_at", "id"),
    Index("ix_orders_status_placed_at_id", "status", "placed_at", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("order_id", IdType, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("content_id", IdType, nullable=False, comment="An id in the content service."),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(12, 2), nullable=False),
    Index("ix_order_lines_order_id_id", "order_id", "id"),
    Index("ix_order_lines_content_id", "content_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True, comment="Public part of the key."),
    Column("secret_hash", String(64), nullable=False, comment="HMAC-SHA256(pepper, secret), hex."),
    Column("name", String(200), nullable=False),
    Column("owner", String(200), nullable=True, comment="The partner the key was issued to."),
    Column("scopes", String(1000), nullable=False, comment="Space-separated OAuth2 scopes."),
    Column("budget", Integer, nullable=True, comment="Points per window; null: the default."),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("last_used_at", UTCDateTime(), nullable=True),
)

payments = Table(
    "payments",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column(
        "order_id",
        IdType,
        ForeignKey("orders.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column(
        "status",
        Enum(PaymentStatus, name="payment_status", native_enum=True, validate_strings=True),
        nullable=False,
    ),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column(
        "provider_key",
        String(64),
        nullable=False,
        unique=True,
        comment="The idempotency key the provider saw for this payment's intent.",
    ),
    Column(
        "requested_at",
        UTCDateTime(),
        nullable=True,
        comment="When the provider was first asked for an intent: one may exist from then on.",
    ),
    Column("intent_id", String(64), nullable=True, unique=True),
    Column("client_secret", String(255), nullable=True),
    Column("refund_id", String(64), nullable=True),
    Column("failure_reason", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    Column("updated_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    # The recovery sweep looks for payments left before the provider was called.
    Index("ix_payments_status_updated_at", "status", "updated_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("scope", String(300), nullable=False, comment="The principal the key belongs to."),
    Column("key", String(255), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False, comment="SHA-256 of the request, hex."),
    Column("state", String(16), nullable=False, comment="in_progress or completed."),
    Column("owner", String(32), nullable=True, comment="The claim running it, while in progress."),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("recovery", Text, nullable=True, comment="JSON: how far an interrupted run got."),
    Column("response", Text, nullable=True, comment="JSON: what a retry is answered with."),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    Column("expires_at", UTCDateTime(), nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("event_id", String(255), nullable=False, unique=True, comment="The provider's id."),
    Column("type", String(100), nullable=False),
    Column("order_id", IdType, nullable=True),
    Column("outcome", String(32), nullable=False, comment="applied, ignored or unmatched."),
    Column(
        "received_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()
    ),
)

webhook_signatures = Table(
    "webhook_signatures",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column(
        "digest",
        String(64),
        nullable=False,
        unique=True,
        comment="SHA-256 of a signature header already accepted: a replay is refused.",
    ),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_webhook_signatures_expires_at", "expires_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(32), nullable=False),
    Column("order_id", IdType, nullable=False),
    Column("user_id", IdType, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False, comment="The event as published, JSON."),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now, server_default=func.now()),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True, comment="SQLite's claim lease."),
    Index("ix_outbox_published_at_id", "published_at", "id"),
)
