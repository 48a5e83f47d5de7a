"""Partner API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Only an HMAC of each key's secret is stored. Written for both dialects, like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column(
            "key_id", sa.String(length=32), nullable=False, comment="Public part of the key."
        ),
        sa.Column(
            "secret_hash",
            sa.String(length=64),
            nullable=False,
            comment="HMAC-SHA256(pepper, secret), hex.",
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "owner",
            sa.String(length=200),
            nullable=True,
            comment="The partner the key was issued to.",
        ),
        sa.Column(
            "scopes",
            sa.String(length=1000),
            nullable=False,
            comment="Space-separated OAuth2 scopes.",
        ),
        sa.Column(
            "budget", sa.Integer(), nullable=True, comment="Points per window; null: the default."
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
