"""Phone-tail checks and locks across conversations; side effects made once per anchor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dianxiaoer.store.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dianxiaoer.store.models.UTCDateTime(timezone=True)
ATTEMPT_INDEXES = ("order_id", "customer_id", "sender", "client_ip", "created_at")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ATTEMPT_INDEXES:
        op.create_index(
            op.f(f"ix_verification_attempts_{column}"), "verification_attempts", [column]
        )
    op.create_table(
        "verification_locks",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.Column("lockout_handoff_at", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_table(
        "side_effects",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("anchor", sa.String(length=255), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "action", "anchor"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("side_effects")
    op.drop_table("verification_locks")
    for column in reversed(ATTEMPT_INDEXES):
        op.drop_index(
            op.f(f"ix_verification_attempts_{column}"), table_name="verification_attempts"
        )
    op.drop_table("verification_attempts")
