"""Transcript lines have a kind: a turn of the interview, or an aside around the turns.

Existing lines become turns (the column's server default), which is what they were read as before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_KINDS = ("turn", "aside")


def upgrade() -> None:
    """Add ``interview_messages.kind`` ("turn" for every existing line) and its CHECK constraint.

    Batch mode: SQLite cannot add a constraint to an existing table, so there the table is copied into a new one
    (the rows, their constraints and the other columns unchanged); PostgreSQL alters it in place.
    """
    allowed = ", ".join(f"'{value}'" for value in MESSAGE_KINDS)
    with op.batch_alter_table("interview_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), server_default="turn", nullable=False))
        batch.create_check_constraint(op.f("ck_interview_messages_kind"), f"kind IN ({allowed})")


def downgrade() -> None:
    """Drop the column and its constraint (asides then read as turns)."""
    with op.batch_alter_table("interview_messages") as batch:
        batch.drop_constraint(op.f("ck_interview_messages_kind"), type_="check")
        batch.drop_column("kind")
