"""The data-access layer: every query the application runs, as methods of `Database`.

Each method uses its own short session and returns detached objects (or small dataclasses), so nothing outside
this module holds a session. Methods that write run in a write transaction (`BEGIN IMMEDIATE` on SQLite, so
concurrent writers queue on the busy timeout instead of failing); the statements that must be atomic under
concurrency (spending a credit, numbering messages, completing, sweeping) take their row locks with their first
statement, which makes them correct under PostgreSQL's READ COMMITTED as well.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import BEGIN_IMMEDIATE, create_engine, masked_url, session_factory
from db.models import (
    DEFAULT_INTERVIEWS_REMAINING,
    IP_MAX_LENGTH,
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    SCORE_FIELDS,
    USER_AGENT_MAX_LENGTH,
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
from db.types import ensure_utc, utcnow

logger = logging.getLogger(__name__)


class EmailTaken(Exception):
    """An account with this email address already exists."""


class InterviewNotFound(LookupError):
    """No interview has this id."""


def normalise_email(email: str) -> str:
    """The form emails are stored and looked up in, so that look-alike spellings of one address are one account:
    Unicode NFKC (fullwidth letters become ASCII, a no-break space a space), invisible format characters such as
    zero-width spaces (category Cf) removed, surrounding whitespace removed, lower case."""
    folded = unicodedata.normalize("NFKC", email)
    visible = "".join(char for char in folded if unicodedata.category(char) != "Cf")
    return unicodedata.normalize("NFKC", visible.strip().lower())


def legacy_email_form(email: str) -> str:
    """How emails were stored before ``normalise_email`` folded look-alikes (trimmed, lower case): accounts made
    then keep the spelling they were made with."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class InterviewSummary:
    """One line of the interview history: the interview's fields and its feedback's score and status."""

    id: uuid.UUID
    user_id: uuid.UUID
    role: str
    interview_type: InterviewType
    experience_level: ExperienceLevel
    duration_minutes: int
    status: InterviewStatus
    started_at: datetime
    completed_at: datetime | None
    recording_url: str | None
    last_activity_at: datetime
    active_seconds: float
    overall_score: int | None
    feedback_status: FeedbackStatus | None


class Database:
    """The application's database: owns the engine and its sessions; see the module docstring."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        """Connect lazily to `url`; `engine_options` go to SQLAlchemy (e.g. `pool_size`)."""
        self._url = url
        self._engine = create_engine(url, **engine_options)
        self._sessions = session_factory(self._engine)
        self._is_sqlite = self._engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()

    @property
    def masked_url(self) -> str:
        """The database URL with the password masked, for logs."""
        return masked_url(self._url)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def ping(self, timeout: float = 5.0) -> bool:
        """Whether the database answers `SELECT 1` within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            logger.warning("Database ping failed: %s", exc)
            return False
        return True

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it began is rolled back when it closes."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed on success and rolled back on error.

        On SQLite one writer at a time per process queues here, in the event loop: SQLite has a single write lock,
        and a writer that waits for it in SQLite's busy handler sleeps in growing steps (up to 100 ms) instead of
        starting the moment the lock is free. Other processes still meet at the busy handler."""
        if not self._is_sqlite:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._sessions() as session, session.begin():
            await session.connection(execution_options={BEGIN_IMMEDIATE: True})
            yield session

    # Users

    async def create_user(
        self,
        email: str,
        password_hash: str,
        full_name: str,
        target_role: str,
        experience_level: ExperienceLevel,
        interviews_remaining: int = DEFAULT_INTERVIEWS_REMAINING,
    ) -> User:
        """Create an account; raise `EmailTaken` when the (normalised) email is already used."""
        now = utcnow()
        user = User(
            email=normalise_email(email),
            password_hash=password_hash,
            full_name=full_name,
            target_role=target_role,
            experience_level=ExperienceLevel(experience_level),
            interviews_remaining=interviews_remaining,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._write() as session:
                session.add(user)
        except IntegrityError as exc:
            if _is_email_conflict(exc):
                raise EmailTaken(user.email) from exc
            raise
        return user

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        """The user with this id, if any."""
        async with self._read() as session:
            return await session.get(User, user_id)

    async def get_user_by_email(self, email: str) -> User | None:
        """The user with this email (compared normalised), if any."""
        async with self._read() as session:
            result = await session.execute(select(User).where(User.email == normalise_email(email)))
            return result.scalar_one_or_none()

    async def users_for_login(self, email: str) -> list[User]:
        """The accounts an email may log in to: the one under its normalised spelling, then one made before
        look-alikes were folded under the spelling as given (when that differs)."""
        spellings = list(dict.fromkeys([normalise_email(email), legacy_email_form(email)]))
        async with self._read() as session:
            result = await session.execute(select(User).where(User.email.in_(spellings)))
            found = {user.email: user for user in result.scalars()}
        return [found[spelling] for spelling in spellings if spelling in found]

    async def update_user(
        self,
        user_id: uuid.UUID,
        *,
        full_name: str | None = None,
        target_role: str | None = None,
        experience_level: ExperienceLevel | None = None,
    ) -> User | None:
        """Change the given profile fields (None leaves a field as it is); None when there is no such user."""
        values: dict[str, Any] = {"updated_at": utcnow()}
        if full_name is not None:
            values["full_name"] = full_name
        if target_role is not None:
            values["target_role"] = target_role
        if experience_level is not None:
            values["experience_level"] = ExperienceLevel(experience_level)
        statement = update(User).where(User.id == user_id).values(values).returning(User)
        async with self._write() as session:
            return (await session.execute(statement)).scalar_one_or_none()

    async def grant_credits(self, email: str, n: int) -> User | None:
        """Add `n` (>= 0) interviews to the user's balance, atomically; None when there is no such user."""
        if n < 0:
            raise ValueError("credits to grant must not be negative")
        statement = (
            update(User)
            .where(User.email == normalise_email(email))
            .values(interviews_remaining=User.interviews_remaining + n, updated_at=utcnow())
            .returning(User)
        )
        async with self._write() as session:
            return (await session.execute(statement)).scalar_one_or_none()

    # Auth sessions

    async def create_auth_session(self, user_id: uuid.UUID, user_agent: str | None, ip: str | None) -> AuthSession:
        """Record a login (user agent and address are cut to their column sizes)."""
        now = utcnow()
        auth_session = AuthSession(
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:USER_AGENT_MAX_LENGTH] if user_agent else None,
            ip=ip[:IP_MAX_LENGTH] if ip else None,
        )
        async with self._write() as session:
            session.add(auth_session)
        return auth_session

    async def get_auth_session(self, session_id: uuid.UUID) -> AuthSession | None:
        """The auth session with this id (revoked or not: the caller checks `revoked_at` and `last_seen_at`)."""
        async with self._read() as session:
            return await session.get(AuthSession, session_id)

    async def get_auth_session_and_user(self, session_id: uuid.UUID) -> tuple[AuthSession, User] | None:
        """The auth session with this id and its user, in one query (every authenticated request asks)."""
        statement = (
            select(AuthSession, User).join(User, User.id == AuthSession.user_id).where(AuthSession.id == session_id)
        )
        async with self._read() as session:
            row = (await session.execute(statement)).first()
        return None if row is None else (row[0], row[1])

    async def touch_auth_session(self, session_id: uuid.UUID, now: datetime) -> None:
        """Note activity on a session that is not revoked (`last_seen_at` never moves backwards)."""
        now = ensure_utc(now)
        statement = (
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None), AuthSession.last_seen_at < now)
            .values(last_seen_at=now)
        )
        async with self._write() as session:
            await session.execute(statement)

    async def revoke_auth_session(self, session_id: uuid.UUID) -> None:
        """End a session (logout); revoking twice keeps the first time."""
        statement = (
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        async with self._write() as session:
            await session.execute(statement)

    # Interviews

    async def create_interview(
        self, user_id: uuid.UUID, role: str, interview_type: InterviewType, duration_minutes: int
    ) -> InterviewSession | None:
        """Spend one of the user's credits and create the interview, in one transaction; None when no credit is
        left (or there is no such user). The experience level is the user's at this moment. A duration outside
        1 to 60 minutes raises ValueError."""
        if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
            raise ValueError(f"duration_minutes must be {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES}")
        now = utcnow()
        spend = (
            update(User)
            .where(User.id == user_id, User.interviews_remaining > 0)
            .values(interviews_remaining=User.interviews_remaining - 1, updated_at=now)
            .returning(User.experience_level)
        )
        async with self._write() as session:
            level = (await session.execute(spend)).scalar_one_or_none()
            if level is None:
                return None
            interview = InterviewSession(
                user_id=user_id,
                role=role,
                interview_type=InterviewType(interview_type),
                experience_level=level,
                duration_minutes=duration_minutes,
                status=InterviewStatus.IN_PROGRESS,
                started_at=now,
                last_activity_at=now,
                active_seconds=0.0,
            )
            session.add(interview)
        return interview

    async def get_interview(self, interview_id: uuid.UUID, user_id: uuid.UUID | None = None) -> InterviewSession | None:
        """The interview with this id; when `user_id` is given, only if it belongs to that user."""
        statement = select(InterviewSession).where(InterviewSession.id == interview_id)
        if user_id is not None:
            statement = statement.where(InterviewSession.user_id == user_id)
        async with self._read() as session:
            return (await session.execute(statement)).scalar_one_or_none()

    async def list_interviews(
        self, user_id: uuid.UUID, limit: int = 20, offset: int = 0
    ) -> tuple[list[InterviewSummary], int]:
        """A page of the user's interviews, newest first, and how many they have in all."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        page = (
            select(InterviewSession, Feedback.overall_score, Feedback.status)
            .outerjoin(Feedback, Feedback.session_id == InterviewSession.id)
            .where(InterviewSession.user_id == user_id)
            .order_by(InterviewSession.started_at.desc(), InterviewSession.id.desc())
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(InterviewSession).where(InterviewSession.user_id == user_id)
        async with self._read() as session:
            rows = (await session.execute(page)).all()
            total = (await session.execute(count)).scalar_one()
        return [_summary(interview, score, status) for interview, score, status in rows], total

    async def complete_interview(self, interview_id: uuid.UUID, user_id: uuid.UUID) -> InterviewSession | None:
        """Mark the user's interview completed and create its pending feedback row; None when it is not theirs.

        Idempotent: once completed, later calls return the interview unchanged. An abandoned interview may still
        be completed.
        """
        now = utcnow()
        complete = (
            update(InterviewSession)
            .where(
                InterviewSession.id == interview_id,
                InterviewSession.user_id == user_id,
                InterviewSession.status != InterviewStatus.COMPLETED,
            )
            .values(status=InterviewStatus.COMPLETED, completed_at=now, last_activity_at=now)
            .returning(InterviewSession)
        )
        async with self._write() as session:
            interview = (await session.execute(complete)).scalar_one_or_none()
            if interview is not None:
                await self._ensure_feedback_row(session, interview_id, now)
                return interview
            current = select(InterviewSession).where(
                InterviewSession.id == interview_id, InterviewSession.user_id == user_id
            )
            return (await session.execute(current)).scalar_one_or_none()

    async def record_activity(self, interview_id: uuid.UUID, active_seconds_delta: float = 0.0) -> None:
        """Note that the interview is alive now, and add time spent in a call to its clock."""
        statement = (
            update(InterviewSession)
            .where(InterviewSession.id == interview_id)
            .values(
                last_activity_at=utcnow(),
                active_seconds=InterviewSession.active_seconds + active_seconds_delta,
            )
        )
        async with self._write() as session:
            await session.execute(statement)

    async def set_recording_url(self, interview_id: uuid.UUID, url: str) -> None:
        """Where the interview's recording can be fetched."""
        async with self._write() as session:
            await session.execute(
                update(InterviewSession).where(InterviewSession.id == interview_id).values(recording_url=url)
            )

    async def abandon_stale_interviews(self, idle_before: datetime) -> list[uuid.UUID]:
        """Mark abandoned every interview in progress with no activity since `idle_before`; return their ids.

        One UPDATE ... RETURNING: when several workers sweep at once, each interview is reported by one of them.
        """
        statement = (
            update(InterviewSession)
            .where(
                InterviewSession.status == InterviewStatus.IN_PROGRESS,
                InterviewSession.last_activity_at < ensure_utc(idle_before),
            )
            .values(status=InterviewStatus.ABANDONED)
            .returning(InterviewSession.id)
        )
        async with self._write() as session:
            return list((await session.execute(statement)).scalars())

    # Messages

    async def add_message(
        self,
        session_id: uuid.UUID,
        role: MessageRole,
        content: str,
        timestamp: datetime,
        audio_duration_seconds: float,
        metrics: Mapping[str, Any] | None = None,
        interrupted: bool = False,
        kind: MessageKind | str = MessageKind.TURN,
    ) -> Message:
        """Append a transcript line with the interview's next `seq`, and note activity on the interview.

        `kind` is "turn" (a question or an answer) or "aside" (a line around the turns); another value raises
        ValueError before anything is written.

        The first statement updates (and so locks) the interview row, which makes concurrent appends to the same
        interview queue up; each then numbers its line after the last committed one. Raises `InterviewNotFound`.
        """
        timestamp = ensure_utc(timestamp)
        kind = MessageKind(kind)
        touch = (
            update(InterviewSession)
            .where(InterviewSession.id == session_id)
            .values(last_activity_at=utcnow())
            .returning(InterviewSession.id)
        )
        last_seq = select(func.coalesce(func.max(Message.seq), 0)).where(Message.session_id == session_id)
        async with self._write() as session:
            if (await session.execute(touch)).scalar_one_or_none() is None:
                raise InterviewNotFound(session_id)
            seq = (await session.execute(last_seq)).scalar_one() + 1
            message = Message(
                session_id=session_id,
                seq=seq,
                role=MessageRole(role),
                content=content,
                timestamp=timestamp,
                audio_duration_seconds=audio_duration_seconds,
                metrics=dict(metrics) if metrics is not None else None,
                interrupted=interrupted,
                kind=kind,
            )
            session.add(message)
        return message

    async def list_messages(self, session_id: uuid.UUID) -> list[Message]:
        """The interview's transcript in order."""
        statement = select(Message).where(Message.session_id == session_id).order_by(Message.seq)
        async with self._read() as session:
            return list((await session.execute(statement)).scalars())

    # Feedback

    async def get_feedback(self, session_id: uuid.UUID) -> Feedback | None:
        """The interview's feedback row, if it has one (it gets one when completed)."""
        async with self._read() as session:
            result = await session.execute(select(Feedback).where(Feedback.session_id == session_id))
            return result.scalar_one_or_none()

    async def save_feedback(
        self,
        session_id: uuid.UUID,
        *,
        status: FeedbackStatus,
        scores: Mapping[str, int] | None = None,
        strengths: str | None = None,
        improvements: str | None = None,
        detailed_feedback: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Feedback:
        """Write the outcome of a feedback attempt: the row then holds exactly what is given (omitted fields are
        cleared, so a success after a failure has no stale error). `scores` keys are `SCORE_FIELDS` names, each
        1 to 100. `attempts` goes up by one when the status is ready or failed. Raises `InterviewNotFound`."""
        status = FeedbackStatus(status)
        score_values = _checked_scores(scores or {})
        now = utcnow()
        counted = status in (FeedbackStatus.READY, FeedbackStatus.FAILED)
        statement = (
            update(Feedback)
            .where(Feedback.session_id == session_id)
            .values(
                status=status,
                **score_values,
                strengths=strengths,
                improvements=improvements,
                detailed_feedback=detailed_feedback,
                error=error,
                attempts=Feedback.attempts + (1 if counted else 0),
                updated_at=now,
            )
            .returning(Feedback)
        )
        async with self._write() as session:
            exists = select(InterviewSession.id).where(InterviewSession.id == session_id)
            if (await session.execute(exists)).scalar_one_or_none() is None:
                raise InterviewNotFound(session_id)
            await self._ensure_feedback_row(session, session_id, now)
            return (await session.execute(statement)).scalar_one()

    async def pending_feedback(self, untouched_since: datetime, limit: int = 20) -> list[uuid.UUID]:
        """Interviews whose feedback is still pending and has not been touched since ``untouched_since``: work a
        server left unfinished (it stopped while writing them), oldest first."""
        statement = (
            select(Feedback.session_id)
            .where(Feedback.status == FeedbackStatus.PENDING, Feedback.updated_at < ensure_utc(untouched_since))
            .order_by(Feedback.updated_at)
            .limit(limit)
        )
        async with self._read() as session:
            return list((await session.execute(statement)).scalars())

    async def _ensure_feedback_row(self, session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
        """Insert the pending feedback row unless the interview already has one."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = (
            dialect_insert(Feedback)
            .values(
                id=uuid.uuid4(),
                session_id=session_id,
                status=FeedbackStatus.PENDING,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["session_id"])
        )
        await session.execute(statement)


def _summary(interview: InterviewSession, score: int | None, status: FeedbackStatus | None) -> InterviewSummary:
    return InterviewSummary(
        id=interview.id,
        user_id=interview.user_id,
        role=interview.role,
        interview_type=interview.interview_type,
        experience_level=interview.experience_level,
        duration_minutes=interview.duration_minutes,
        status=interview.status,
        started_at=interview.started_at,
        completed_at=interview.completed_at,
        recording_url=interview.recording_url,
        last_activity_at=interview.last_activity_at,
        active_seconds=interview.active_seconds,
        overall_score=score,
        feedback_status=status,
    )


def _checked_scores(scores: Mapping[str, int]) -> dict[str, int | None]:
    """Every score column: the given ones checked (known name, 1-100), the others cleared."""
    unknown = set(scores) - set(SCORE_FIELDS)
    if unknown:
        raise ValueError(f"unknown score fields: {sorted(unknown)} (expected some of {list(SCORE_FIELDS)})")
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ValueError(f"{name} must be an integer from 1 to 100, not {value!r}")
    return {name: scores.get(name) for name in SCORE_FIELDS}


def _is_email_conflict(exc: IntegrityError) -> bool:
    """Whether the integrity error is the unique constraint on users.email (SQLite and PostgreSQL wording)."""
    message = str(exc.orig)
    return "uq_users_email" in message or "users.email" in message
