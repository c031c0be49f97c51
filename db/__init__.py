"""The database: SQLModel tables, async engines, migrations, and `Database`, the only place that talks SQL."""

from db.engine import create_engine, default_database_url, masked_url, session_factory
from db.migrate import upgrade, upgrade_sync
from db.models import (
    SCORE_FIELDS,
    AuthSession,
    ExperienceLevel,
    Feedback,
    FeedbackStatus,
    InterviewSession,
    InterviewStatus,
    InterviewType,
    Message,
    MessageKind,
    MessageRole,
    User,
)
from db.repository import Database, EmailTaken, InterviewNotFound, InterviewSummary, normalise_email
from db.types import UTCDateTime, utcnow

__all__ = [
    "SCORE_FIELDS",
    "AuthSession",
    "Database",
    "EmailTaken",
    "ExperienceLevel",
    "Feedback",
    "FeedbackStatus",
    "InterviewNotFound",
    "InterviewSession",
    "InterviewStatus",
    "InterviewSummary",
    "InterviewType",
    "Message",
    "MessageKind",
    "MessageRole",
    "UTCDateTime",
    "User",
    "create_engine",
    "default_database_url",
    "masked_url",
    "normalise_email",
    "session_factory",
    "upgrade",
    "upgrade_sync",
    "utcnow",
]
