"""Complaint fields on tickets; satisfaction ratings; churn signals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dianxiaoer.store.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("psychology", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("anger", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tickets_conversation_id"), ["conversation_id"], unique=False
        )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("journey", sa.String(length=24), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("ticket_number", sa.String(length=24), nullable=True),
        sa.Column("created_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ratings_conversation_id"), "ratings", ["conversation_id"])
    op.create_table(
        "churn_signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cause", sa.String(length=24), nullable=False),
        sa.Column("created_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_churn_signals_conversation_id"), "churn_signals", ["conversation_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_churn_signals_conversation_id"), table_name="churn_signals")
    op.drop_table("churn_signals")
    op.drop_index(op.f("ix_ratings_conversation_id"), table_name="ratings")
    op.drop_table("ratings")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_conversation_id"))
        batch_op.drop_column("anger")
        batch_op.drop_column("psychology")
        batch_op.drop_column("conversation_id")
