"""Feedback is written in the background when an interview completes: pending → ready, or failed (retried).

Whatever completes an interview (the candidate ending the call, the interviewer closing at the planned
duration, the API) calls ``FeedbackService.interview_completed``. A report that a server left pending (it stopped
while writing it) is picked up again by the periodic check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from voice_agent.feedback.generate import write_feedback
from voice_agent.feedback.speech_metrics import Line
from voice_agent.providers.base import InterviewContext, LanguageModel
from web.values import enum_value

log = logging.getLogger(__name__)

#: Seconds to wait before each retry of a failed attempt.
RETRY_DELAYS_S = (5.0,)
#: A pending report untouched for this long was abandoned by a server that stopped: write it again.
STALE_PENDING = timedelta(minutes=2)


def stt_of(messages: list[Any]) -> str | None:
    """The speech recognition that heard most of the candidate's lines."""
    names = Counter(
        (m.metrics or {}).get("stt") for m in messages if enum_value(m.role) == "user" and isinstance(m.metrics, dict)
    )
    names.pop(None, None)
    return names.most_common(1)[0][0] if names else None


class FeedbackService:
    """Writes reports in background tasks of this process."""

    def __init__(self, db: Any, llm: LanguageModel, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self._db = db
        self._llm = llm
        self._retry_delays_s = retry_delays_s
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def interview_completed(self, interview_id: uuid.UUID) -> None:
        """Start writing the report (once; a report already ready or being written is left alone)."""
        feedback = await self._db.get_feedback(interview_id)
        if feedback is not None and enum_value(feedback.status) == "pending":
            self._start(interview_id)

    async def retry(self, interview_id: uuid.UUID) -> None:
        """Write a failed report again."""
        await self._db.save_feedback(interview_id, status="pending")
        self._start(interview_id)

    def _start(self, interview_id: uuid.UUID) -> None:
        if interview_id in self._running:
            return
        task = asyncio.get_running_loop().create_task(self._write(interview_id), name=f"feedback-{interview_id}")
        self._running[interview_id] = task
        task.add_done_callback(lambda _: self._running.pop(interview_id, None))

    async def wait(self, interview_id: uuid.UUID) -> None:
        """Wait for the report being written (tests and shutdown)."""
        task = self._running.get(interview_id)
        if task is not None:
            await asyncio.shield(task)

    async def _write(self, interview_id: uuid.UUID) -> None:
        interview = await self._db.get_interview(interview_id)
        user = await self._db.get_user(interview.user_id)
        messages = await self._db.list_messages(interview_id)
        lines = [Line.from_message(m) for m in messages]
        context = InterviewContext(
            role=interview.role,
            interview_type=enum_value(interview.interview_type),
            experience_level=enum_value(interview.experience_level),
            duration_minutes=interview.duration_minutes,
            candidate_name=user.full_name if user else "",
            seed=str(interview_id),
        )
        error: Exception | None = None
        for delay in (0.0, *self._retry_delays_s):
            if delay:
                await asyncio.sleep(delay)
            try:
                report = await write_feedback(lines, context, self._llm, stt_of(messages))
            except Exception as exc:
                error = exc
                log.warning("feedback for %s failed: %s", interview_id, exc.__class__.__name__)
                continue
            await self._db.save_feedback(
                interview_id,
                status="ready",
                scores=report.scores(),
                strengths="\n".join(report.strengths),
                improvements="\n".join(report.improvements),
                detailed_feedback=report.detailed_feedback(),
            )
            log.info("feedback for %s ready (%s)", interview_id, report.scored_by)
            return
        await self._db.save_feedback(
            interview_id,
            status="failed",
            error=f"The reviewer could not write this report ({error.__class__.__name__}). Try again in a moment.",
        )

    async def resume_stale(self) -> int:
        """Write again the reports a stopped server left pending; returns how many were started."""
        stale = await self._db.pending_feedback(datetime.now(UTC) - STALE_PENDING)
        started = 0
        for interview_id in stale:
            if interview_id not in self._running:
                self._start(interview_id)
                started += 1
        return started

    async def close(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
