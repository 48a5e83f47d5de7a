"""Placing and paying for orders: payments, idempotency keys, webhook events, the outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14

``orders.version`` numbers each order's state changes (the sequence of its events), and
``orders.cancellation_reason`` keeps what cancelOrder was told;
``payments`` holds each order's payment state at the provider; ``idempotency_keys`` the
requests a client may retry; ``webhook_events`` and ``webhook_signatures`` the provider's
callbacks already processed and the signatures already accepted; ``outbox`` the events written
with each state change, waiting to be published. Written for both dialects, like 0001; types
and enum values are spelled out so this revision keeps describing what it created.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_STATUS = sa.Enum(
    "NOT_STARTED",
    "PROCESSING",
    "AUTHORIZED",
    "PAID",
    "FAILED",
    "CANCELLED",
    "REFUND_PENDING",
    "REFUNDED",
    name="payment_status",
)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, *, nullable: bool = False, default: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.func.now() if default else None,
        nullable=nullable,
    )


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column(
                "version",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="Bumped by every state change; the sequence number of the order's events.",
            )
        )
        batch.add_column(
            sa.Column(
                "cancellation_reason",
                sa.String(length=500),
                nullable=True,
                comment="Why the customer or staff cancelled it (cancelOrder's reason).",
            )
        )

    op.create_table(
        "payments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("order_id", _id(), nullable=False),
        sa.Column("status", PAYMENT_STATUS, nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "provider_key",
            sa.String(length=64),
            nullable=False,
            comment="The idempotency key the provider saw for this payment's intent.",
        ),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the provider was first asked for an intent: one may exist from then on.",
        ),
        sa.Column("intent_id", sa.String(length=64), nullable=True),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("refund_id", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        _timestamp("created_at", default=True),
        _timestamp("updated_at", default=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payments_order_id")),
        sa.UniqueConstraint("provider_key", name=op.f("uq_payments_provider_key")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_payments_intent_id")),
    )
    op.create_index("ix_payments_status_updated_at", "payments", ["status", "updated_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column(
            "scope",
            sa.String(length=300),
            nullable=False,
            comment="The principal the key belongs to.",
        ),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column(
            "fingerprint",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the request, hex.",
        ),
        sa.Column(
            "state", sa.String(length=16), nullable=False, comment="in_progress or completed."
        ),
        sa.Column(
            "owner",
            sa.String(length=32),
            nullable=True,
            comment="The claim running it, while in progress.",
        ),
        _timestamp("locked_until", nullable=True),
        sa.Column(
            "recovery", sa.Text(), nullable=True, comment="JSON: how far an interrupted run got."
        ),
        sa.Column(
            "response", sa.Text(), nullable=True, comment="JSON: what a retry is answered with."
        ),
        _timestamp("created_at", default=True),
        _timestamp("expires_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])

    op.create_table(
        "webhook_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False, comment="The provider's id."),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("order_id", _id(), nullable=True),
        sa.Column(
            "outcome",
            sa.String(length=32),
            nullable=False,
            comment="applied, ignored or unmatched.",
        ),
        _timestamp("received_at", default=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_events_event_id")),
    )

    op.create_table(
        "webhook_signatures",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column(
            "digest",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of a signature header already accepted: a replay is refused.",
        ),
        _timestamp("expires_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_signatures")),
        sa.UniqueConstraint("digest", name=op.f("uq_webhook_signatures_digest")),
    )
    op.create_index("ix_webhook_signatures_expires_at", "webhook_signatures", ["expires_at"])

    op.create_table(
        "outbox",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("order_id", _id(), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False, comment="The event as published, JSON."),
        _timestamp("created_at", default=True),
        _timestamp("published_at", nullable=True),
        sa.Column(
            "claimed_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="SQLite's claim lease.",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index("ix_outbox_published_at_id", "outbox", ["published_at", "id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("webhook_signatures")
    op.drop_table("webhook_events")
    op.drop_table("idempotency_keys")
    op.drop_table("payments")
    # The enum type outlives its table on PostgreSQL.
    PAYMENT_STATUS.drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("cancellation_reason")
        batch.drop_column("version")
