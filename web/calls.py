"""The platform's side of a live call: a transcript that is never lost, and the interview's clock.

``TranscriptWriter`` stores each line the moment it is final, in order, retrying through database hiccups;
``CallActivity`` keeps the interview's last-activity time fresh while the call lives, so the idle sweep never
abandons a live interview; ``IdleInterviewSweep`` abandons interviews left idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from voice_agent.events import LineCommitted, SessionEvent, SpokenLine

log = logging.getLogger(__name__)

#: Call endings that mean the interview is over (a dropped call leaves it open for a reconnect).
COMPLETING_REASONS = frozenset({"completed", "candidate_ended", "time_limit"})


class TranscriptWriter:
    """Writes a call's transcript lines to the database as they become final, one by one, in order."""

    def __init__(self, db: Any, interview_id: uuid.UUID, retry_delays: tuple[float, ...] = (0.1, 0.5, 1, 2, 5)):
        self._db = db
        self._interview_id = interview_id
        self._retry_delays = retry_delays
        self._queue: asyncio.Queue[SpokenLine | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"transcript-{interview_id}")
        self.stored = 0
        self.failed: list[SpokenLine] = []

    def on_event(self, _call: Any, event: SessionEvent) -> None:
        """The session's event hook: queue every committed line."""
        if isinstance(event, LineCommitted):
            self._queue.put_nowait(event.line)

    async def _run(self) -> None:
        while (line := await self._queue.get()) is not None:
            await self._store(line)

    async def _store(self, line: SpokenLine) -> None:
        for attempt, delay in enumerate((*self._retry_delays, None)):
            try:
                await self._db.add_message(
                    self._interview_id,
                    line.role,
                    line.content,
                    line.started_at,
                    line.audio_duration_seconds,
                    metrics=line.metrics,
                    interrupted=line.interrupted,
                    kind=line.kind,
                )
                self.stored += 1
                return
            except Exception as exc:
                if delay is None:
                    # Kept in memory and logged without its text: the operator sees it; nothing is silently lost.
                    self.failed.append(line)
                    log.error("interview %s: a %s line could not be stored: %s", self._interview_id, line.role, exc)
                    return
                log.warning("interview %s: storing a line failed (attempt %d), retrying", self._interview_id, attempt)
                await asyncio.sleep(delay)

    async def close(self, timeout: float = 30.0) -> None:
        """Store what is queued, then stop."""
        self._queue.put_nowait(None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout)


class CallActivity:
    """Adds the call's time to the interview and keeps its last-activity time fresh while the call lives.

    The interview's clock runs from the call's first session event (the session starting once the media is
    connected): a call that never connects adds no time."""

    def __init__(self, db: Any, interview_id: uuid.UUID, every_s: float) -> None:
        self._db = db
        self._interview_id = interview_id
        self._every_s = every_s
        self._last: float | None = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"activity-{interview_id}")

    def on_event(self, _call: Any, _event: SessionEvent) -> None:
        """The session's event hook: the first event starts the clock."""
        if self._last is None:
            self._last = time.monotonic()

    async def _record(self) -> None:
        now = time.monotonic()
        delta = 0.0 if self._last is None else now - self._last
        if self._last is not None:
            self._last = now
        await self._db.record_activity(self._interview_id, delta)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self._record()
            except Exception as exc:
                log.warning("interview %s: activity not recorded: %s", self._interview_id, exc)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(Exception):
            await self._record()


class IdleInterviewSweep:
    """Marks interviews abandoned when they have had no call and no activity for longer than the grace period,
    and picks up feedback reports a stopped server left unwritten.

    Keyed on each interview's last-activity time (which live calls refresh), so it is safe to run in every
    worker at once and never depends on when a server started.
    """

    def __init__(self, db: Any, grace_s: float, every_s: float, feedback: Any = None) -> None:
        self._db = db
        self._grace_s = grace_s
        self._every_s = every_s
        self._feedback = feedback

    async def sweep_once(self) -> list[uuid.UUID]:
        """One pass; returns the interviews it abandoned."""
        from datetime import UTC, datetime, timedelta

        idle_before = datetime.now(UTC) - timedelta(seconds=self._grace_s)
        abandoned = await self._db.abandon_stale_interviews(idle_before)
        if abandoned:
            log.info("%d idle interview(s) marked abandoned", len(abandoned))
        return abandoned

    async def run(self) -> None:
        while True:
            try:
                await self.sweep_once()
                if self._feedback is not None:
                    await self._feedback.resume_stale()
            except Exception as exc:
                log.warning("periodic sweep failed: %s", exc)
            await asyncio.sleep(self._every_s)
