"""Initial schema: users, auth sessions, interviews, messages, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPERIENCE_LEVELS = ("entry", "mid", "senior")
INTERVIEW_TYPES = ("technical", "behavioral", "mixed")
INTERVIEW_STATUSES = ("in_progress", "completed", "abandoned")
MESSAGE_ROLES = ("user", "assistant")
FEEDBACK_STATUSES = ("pending", "ready", "failed")
SCORES = ("overall_score", "technical_depth_score", "communication_score", "structure_score", "confidence_score")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("target_role", sa.String(length=200), nullable=False),
        sa.Column("experience_level", sa.String(length=32), nullable=False),
        sa.Column("interviews_remaining", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.CheckConstraint("interviews_remaining >= 0", name=op.f("ck_users_interviews_remaining_non_negative")),
        _one_of("users", "experience_level", EXPERIENCE_LEVELS),
    )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
        _timestamp("revoked_at", nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])

    op.create_table(
        "interview_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("interview_type", sa.String(length=32), nullable=False),
        sa.Column("experience_level", sa.String(length=32), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), server_default="in_progress", nullable=False),
        _timestamp("started_at"),
        _timestamp("completed_at", nullable=True),
        sa.Column("recording_url", sa.String(length=2048), nullable=True),
        _timestamp("last_activity_at"),
        sa.Column("active_seconds", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_interview_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "duration_minutes >= 1 AND duration_minutes <= 60",
            name=op.f("ck_interview_sessions_duration_minutes_range"),
        ),
        _one_of("interview_sessions", "interview_type", INTERVIEW_TYPES),
        _one_of("interview_sessions", "experience_level", EXPERIENCE_LEVELS),
        _one_of("interview_sessions", "status", INTERVIEW_STATUSES),
    )
    op.create_index(op.f("ix_interview_sessions_user_id"), "interview_sessions", ["user_id"])
    op.create_index(op.f("ix_interview_sessions_last_activity_at"), "interview_sessions", ["last_activity_at"])

    op.create_table(
        "interview_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _timestamp("timestamp"),
        sa.Column("audio_duration_seconds", sa.Float(), nullable=False),
        sa.Column("metrics", _json(), nullable=True),
        sa.Column("interrupted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_messages")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_interview_messages_session_id_seq")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["interview_sessions.id"],
            name=op.f("fk_interview_messages_session_id_interview_sessions"),
            ondelete="CASCADE",
        ),
        _one_of("interview_messages", "role", MESSAGE_ROLES),
    )

    op.create_table(
        "interview_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), server_default="pending", nullable=False),
        *(sa.Column(score, sa.Integer(), nullable=True) for score in SCORES),
        sa.Column("strengths", sa.Text(), nullable=True),
        sa.Column("improvements", sa.Text(), nullable=True),
        sa.Column("detailed_feedback", _json(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_feedback")),
        sa.UniqueConstraint("session_id", name=op.f("uq_interview_feedback_session_id")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["interview_sessions.id"],
            name=op.f("fk_interview_feedback_session_id_interview_sessions"),
            ondelete="CASCADE",
        ),
        *(
            sa.CheckConstraint(f"{score} >= 1 AND {score} <= 100", name=op.f(f"ck_interview_feedback_{score}_range"))
            for score in SCORES
        ),
        _one_of("interview_feedback", "status", FEEDBACK_STATUSES),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("interview_feedback")
    op.drop_table("interview_messages")
    op.drop_index(op.f("ix_interview_sessions_last_activity_at"), table_name="interview_sessions")
    op.drop_index(op.f("ix_interview_sessions_user_id"), table_name="interview_sessions")
    op.drop_table("interview_sessions")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_table("users")
