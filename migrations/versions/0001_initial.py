"""Users, orders and order lines.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written for both dialects: ``sa.func.now()`` renders as ``now()`` on PostgreSQL and
``CURRENT_TIMESTAMP`` on SQLite, and ids are BIGINT except on SQLite, where only an INTEGER
primary key is an auto-incrementing rowid. Types and enum values are spelled out rather than
imported from ``datasources.tables`` so this revision keeps describing the schema it created
after the application's tables move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_STATUS = sa.Enum("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED", name="order_status")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("subject", name=op.f("uq_users_subject")),
    )
    # Creating the table creates the PostgreSQL enum type ``order_status`` first.
    op.create_table(
        "orders",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("status", ORDER_STATUS, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "placed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    op.create_index("ix_orders_placed_at_id", "orders", ["placed_at", "id"])
    op.create_index("ix_orders_status_placed_at_id", "orders", ["status", "placed_at", "id"])
    op.create_index("ix_orders_user_id_placed_at_id", "orders", ["user_id", "placed_at", "id"])

    op.create_table(
        "order_lines",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("order_id", _id(), nullable=False),
        sa.Column("content_id", _id(), nullable=False, comment="An id in the content service."),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index("ix_order_lines_content_id", "order_lines", ["content_id"])
    op.create_index("ix_order_lines_order_id_id", "order_lines", ["order_id", "id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; the enum type outlives its table on PostgreSQL.
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("users")
    ORDER_STATUS.drop(op.get_bind(), checkfirst=True)
