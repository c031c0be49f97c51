"""The tables: the seed's four (users, interview sessions, messages, feedback) plus server-side auth sessions.

Every timestamp is timezone-aware UTC (`UTCDateTime`); enums are stored as strings with a CHECK constraint so the
schema is the same on SQLite and PostgreSQL. There are no ORM relationships on purpose: the repository returns
detached objects, and a relationship would invite lazy loads that cannot happen once the session is closed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, json_type, str_enum, utcnow

# Deterministic constraint and index names, so that later migrations (and SQLite batch mode) can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata

EMAIL_MAX_LENGTH = 320
USER_AGENT_MAX_LENGTH = 300
IP_MAX_LENGTH = 45
TEXT_FIELD_MAX_LENGTH = 200
RECORDING_URL_MAX_LENGTH = 2048
MIN_DURATION_MINUTES = 1
MAX_DURATION_MINUTES = 60
DEFAULT_INTERVIEWS_REMAINING = 3
SCORE_FIELDS = (
    "overall_score",
    "technical_depth_score",
    "communication_score",
    "structure_score",
    "confidence_score",
)


class ExperienceLevel(enum.StrEnum):
    """The candidate's experience level."""

    ENTRY = "entry"
    MID = "mid"
    SENIOR = "senior"


class InterviewType(enum.StrEnum):
    """What the interview is about."""

    TECHNICAL = "technical"
    BEHAVIORAL = "behavioral"
    MIXED = "mixed"


class InterviewStatus(enum.StrEnum):
    """Where an interview is in its life."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class MessageRole(enum.StrEnum):
    """Who said a transcript line."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageKind(enum.StrEnum):
    """What a transcript line is: a turn of the interview (a question, an answer), or an aside around the turns
    ("Sure, take your time.", an idle prompt, a rejoin greeting) that readers of the interview's progress and the
    feedback scorers skip."""

    TURN = "turn"
    ASIDE = "aside"


class FeedbackStatus(enum.StrEnum):
    """Where the feedback report is: being generated, ready, or failed (with the reason in `error`)."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


def _timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp field; required ones default to now."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


def _score() -> Any:
    """A 1-100 score, NULL until the feedback is ready."""
    return Field(default=None, sa_type=sa.Integer)


class User(SQLModel, table=True):
    """A candidate. The email is stored normalised (stripped, lower case) and is unique."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("interviews_remaining >= 0", name="interviews_remaining_non_negative"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_type=sa.String(EMAIL_MAX_LENGTH), unique=True)
    full_name: str = Field(sa_type=sa.String(TEXT_FIELD_MAX_LENGTH))
    target_role: str = Field(sa_type=sa.String(TEXT_FIELD_MAX_LENGTH))
    experience_level: ExperienceLevel = Field(sa_type=str_enum(ExperienceLevel, "experience_level"))
    interviews_remaining: int = Field(
        default=DEFAULT_INTERVIEWS_REMAINING,
        sa_type=sa.Integer,
        sa_column_kwargs={"server_default": sa.text(str(DEFAULT_INTERVIEWS_REMAINING))},
    )
    password_hash: str = Field(sa_type=sa.String(255))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class AuthSession(SQLModel, table=True):
    """A login: the session cookie's JWT names this row, so logging out (revoking it) really ends the session."""

    __tablename__ = "auth_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()
    revoked_at: datetime | None = _timestamp(nullable=True)
    user_agent: str | None = Field(default=None, sa_type=sa.String(USER_AGENT_MAX_LENGTH))
    ip: str | None = Field(default=None, sa_type=sa.String(IP_MAX_LENGTH))


class InterviewSession(SQLModel, table=True):
    """One interview. `active_seconds` is the time spent in calls, so a reconnect continues the interview clock;
    `last_activity_at` drives the sweep that marks idle interviews abandoned."""

    __tablename__ = "interview_sessions"
    __table_args__ = (
        sa.CheckConstraint(
            f"duration_minutes >= {MIN_DURATION_MINUTES} AND duration_minutes <= {MAX_DURATION_MINUTES}",
            name="duration_minutes_range",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=sa.String(TEXT_FIELD_MAX_LENGTH))
    interview_type: InterviewType = Field(sa_type=str_enum(InterviewType, "interview_type"))
    experience_level: ExperienceLevel = Field(sa_type=str_enum(ExperienceLevel, "experience_level"))
    duration_minutes: int = Field(sa_type=sa.Integer)
    status: InterviewStatus = Field(
        default=InterviewStatus.IN_PROGRESS,
        sa_type=str_enum(InterviewStatus, "status"),
        sa_column_kwargs={"server_default": InterviewStatus.IN_PROGRESS.value},
    )
    started_at: datetime = _timestamp()
    completed_at: datetime | None = _timestamp(nullable=True)
    recording_url: str | None = Field(default=None, sa_type=sa.String(RECORDING_URL_MAX_LENGTH))
    last_activity_at: datetime = _timestamp(index=True)
    active_seconds: float = Field(default=0.0, sa_type=sa.Float, sa_column_kwargs={"server_default": sa.text("0")})


class Message(SQLModel, table=True):
    """One transcript line. `seq` orders the lines of an interview; `metrics` holds the turn's latency figures;
    `kind` tells a turn from an aside (rows stored before kinds existed read as turns)."""

    __tablename__ = "interview_messages"
    __table_args__ = (sa.UniqueConstraint("session_id", "seq"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Indexed by the (session_id, seq) unique constraint, whose first column it is.
    session_id: uuid.UUID = Field(foreign_key="interview_sessions.id", ondelete="CASCADE")
    seq: int = Field(sa_type=sa.Integer)
    role: MessageRole = Field(sa_type=str_enum(MessageRole, "role"))
    content: str = Field(sa_type=sa.Text)
    timestamp: datetime = _timestamp()
    audio_duration_seconds: float = Field(default=0.0, sa_type=sa.Float)
    metrics: dict[str, Any] | None = Field(default=None, sa_type=json_type())
    interrupted: bool = Field(default=False, sa_type=sa.Boolean, sa_column_kwargs={"server_default": sa.false()})
    kind: MessageKind = Field(
        default=MessageKind.TURN,
        sa_type=str_enum(MessageKind, "kind"),
        sa_column_kwargs={"server_default": MessageKind.TURN.value},
    )


class Feedback(SQLModel, table=True):
    """The feedback report of a completed interview: pending, then ready (scores 1-100 and text) or failed."""

    __tablename__ = "interview_feedback"
    __table_args__ = tuple(
        sa.CheckConstraint(f"{field} >= 1 AND {field} <= 100", name=f"{field}_range") for field in SCORE_FIELDS
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="interview_sessions.id", ondelete="CASCADE", unique=True)
    status: FeedbackStatus = Field(
        default=FeedbackStatus.PENDING,
        sa_type=str_enum(FeedbackStatus, "status"),
        sa_column_kwargs={"server_default": FeedbackStatus.PENDING.value},
    )
    overall_score: int | None = _score()
    technical_depth_score: int | None = _score()
    communication_score: int | None = _score()
    structure_score: int | None = _score()
    confidence_score: int | None = _score()
    strengths: str | None = Field(default=None, sa_type=sa.Text)
    improvements: str | None = Field(default=None, sa_type=sa.Text)
    detailed_feedback: dict[str, Any] | None = Field(default=None, sa_type=json_type())
    error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0, sa_type=sa.Integer, sa_column_kwargs={"server_default": sa.text("0")})
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
