"""Staff training mode: quiz attempts, Leitner boxes, role-play scorecards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dianxiaoer.store.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("created_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_quiz_attempts_trainee_id"), "quiz_attempts", ["trainee_id"])
    op.create_table(
        "quiz_boxes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("question_id", sa.String(length=128), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("due_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trainee_id", "question_id"),
    )
    op.create_index(op.f("ix_quiz_boxes_trainee_id"), "quiz_boxes", ["trainee_id"])
    op.create_table(
        "roleplay_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", dianxiaoer.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_roleplay_attempts_trainee_id"), "roleplay_attempts", ["trainee_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_roleplay_attempts_trainee_id"), table_name="roleplay_attempts")
    op.drop_table("roleplay_attempts")
    op.drop_index(op.f("ix_quiz_boxes_trainee_id"), table_name="quiz_boxes")
    op.drop_table("quiz_boxes")
    op.drop_index(op.f("ix_quiz_attempts_trainee_id"), table_name="quiz_attempts")
    op.drop_table("quiz_attempts")
