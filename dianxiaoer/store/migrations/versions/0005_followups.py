"""回访 kept in the shop store, so a dead Rasa replica's reminders are recovered.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dianxiaoer.store.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "followups",
        sa.Column("ticket", sa.String(length=24), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "last_attempt_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(["ticket"], ["tickets.number"]),
        sa.PrimaryKeyConstraint("ticket"),
    )
    op.create_index(op.f("ix_followups_conversation_id"), "followups", ["conversation_id"])
    op.create_index(op.f("ix_followups_due_at"), "followups", ["due_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_followups_due_at"), table_name="followups")
    op.drop_index(op.f("ix_followups_conversation_id"), table_name="followups")
    op.drop_table("followups")
