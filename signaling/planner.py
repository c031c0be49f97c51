"""What a call needs before it can start, and who decides it.

The signaling endpoint asks a ``CallPlanner`` whether this request may open a call for this interview and
with what context; the web application provides the planner (``web.calls.PlatformCallPlanner`` checks the
session cookie and the interview's owner and status, and stores the transcript).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from voice_agent.events import SessionEvent
from voice_agent.providers.base import ChatMessage, InterviewContext


@dataclass(slots=True)
class CallPlan:
    """The interview a call belongs to, its context and what was said in earlier calls."""

    interview_id: str
    context: InterviewContext
    user_id: str | None = None
    history: list[ChatMessage] = field(default_factory=list)
    elapsed_before: float = 0.0
    #: Receives every session event of the call (the platform stores the transcript lines).
    on_event: Callable[[Any, SessionEvent], None] | None = None
    #: Awaited once the call has ended, before it counts as gone (the platform flushes its transcript).
    on_closed: Callable[[Any], Awaitable[None]] | None = None
    #: Awaited instead of ``on_closed`` when opening the call failed before a call took the plan over: releases
    #: what planning took (the transcript writer, the interview's activity clock).
    release: Callable[[], Awaitable[None]] | None = None


@dataclass(slots=True)
class CallGrant:
    """Permission to open a call: for whom and for which interview (``details`` is the planner's own)."""

    interview_id: str
    user_id: str | None
    details: Any = None


class CallPlanner(Protocol):
    async def authorize(self, request: web.Request, interview_id: str) -> CallGrant:
        """May this request open a call for this interview? An ``ApiError`` says why not. No side effects."""
        ...

    async def plan(self, grant: CallGrant) -> CallPlan:
        """Everything the call needs, read once the offer is known to be good and any older call of the same
        user has ended (so its last lines are part of the history)."""
        ...
