"""What a call needs before it can start, and who decides it.

The signaling endpoint asks a ``CallPlanner`` whether this request may open a call for this interview and
with what context; the web application provides the planner (the platform's checks the session cookie and
the interview's owner and status). ``OpenCallPlanner`` accepts any id and reads the interview's context from
the request body: it serves the loopback client and tests where no accounts exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from voice_agent.events import SessionEvent
from voice_agent.providers.base import ChatMessage, InterviewContext
from web.errors import ApiError


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


class CallPlanner(Protocol):
    async def plan(self, request: web.Request, interview_id: str, body: dict[str, Any]) -> CallPlan:
        """The plan for this call, or an ``ApiError`` saying why it may not start."""
        ...


_TYPES = ("technical", "behavioral", "mixed")
_LEVELS = ("entry", "mid", "senior")


def context_from_body(interview_id: str, body: dict[str, Any]) -> InterviewContext:
    """An ``InterviewContext`` from the optional ``interview`` object of an offer body."""
    raw = body.get("interview") or {}
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_field", "'interview' must be an object.")
    role = raw.get("role", "Software Engineer")
    kind = raw.get("interview_type", "mixed")
    level = raw.get("experience_level", "mid")
    minutes = raw.get("duration_minutes", 20)
    name = raw.get("candidate_name", "")
    if not isinstance(role, str) or not role.strip() or len(role) > 100:
        raise ApiError(400, "invalid_field", "'role' must be a non-empty string of at most 100 characters.")
    if kind not in _TYPES:
        raise ApiError(400, "invalid_field", f"'interview_type' must be one of {', '.join(_TYPES)}.")
    if level not in _LEVELS:
        raise ApiError(400, "invalid_field", f"'experience_level' must be one of {', '.join(_LEVELS)}.")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 60:
        raise ApiError(400, "invalid_field", "'duration_minutes' must be an integer from 1 to 60.")
    if not isinstance(name, str) or len(name) > 100:
        raise ApiError(400, "invalid_field", "'candidate_name' must be a string of at most 100 characters.")
    return InterviewContext(role.strip(), kind, level, minutes, name.strip(), seed=interview_id)


class OpenCallPlanner:
    """Any interview id may open a call; the context comes from the request body."""

    async def plan(self, request: web.Request, interview_id: str, body: dict[str, Any]) -> CallPlan:
        return CallPlan(interview_id=interview_id, context=context_from_body(interview_id, body))
