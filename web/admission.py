"""Admitting a call, whatever its transport: who may open it, the older call it replaces, what it continues
from, and its place in the registry and the one-call-per-user lease.

``authorize`` lets a call start only for the logged-in owner of an interview in progress; ``admit`` ends the
user's older call and plans the new one with the conversation so far, so a reconnect continues where the
dropped call stopped; ``register`` tracks the started call. The transports (``signaling.rtc_call``,
``signaling.ws_stream``) receive plain values from the plan: a session factory and two callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from signaling.live_call import LiveCall, SessionFactory
from voice_agent.events import SessionEvent
from voice_agent.providers.base import ChatMessage, InterviewContext
from voice_agent.session import CallSession, EventSink
from web import appkeys
from web.auth import require_auth
from web.calls import COMPLETING_REASONS, CallActivity, TranscriptWriter
from web.errors import ApiError
from web.request_params import interview_not_found, owned_interview
from web.values import enum_value

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REPLACED = "replaced"
#: How long a new call waits for an older call of the same user on another worker to end and let go.
EVICT_TIMEOUT_S = 5.0


@dataclass(slots=True)
class CallGrant:
    """Permission to open a call: for whom, for which interview, and the interview as it was read."""

    interview_id: uuid.UUID
    user: Any
    interview: Any

    @property
    def user_id(self) -> str:
        return str(self.user.id)


@dataclass(slots=True)
class CallPlan:
    """The interview a call belongs to, its context and what was said in earlier calls."""

    interview_id: str
    user_id: str
    context: InterviewContext
    history: list[ChatMessage] = field(default_factory=list)
    elapsed_before: float = 0.0
    #: Receives every session event of the call (the transcript writer, the interview's clock).
    on_event: Callable[[Any, SessionEvent], None] | None = None
    #: Awaited once the call has ended, before it counts as gone (the transcript is flushed).
    on_closed: Callable[[Any], Awaitable[None]] | None = None
    #: Awaited instead of ``on_closed`` when opening the call failed before a call took the plan over: releases
    #: what planning took (the transcript writer, the interview's activity clock).
    release: Callable[[], Awaitable[None]] | None = None


async def authorize(request: web.Request, interview_id: str) -> CallGrant:
    """May this request open a call for this interview? 404 for a malformed id or another user's interview,
    409 unless it is in progress, 503 while draining. No side effects."""
    if not _ID.match(interview_id):
        raise interview_not_found()
    app = request.app
    if app[appkeys.DRAINING].is_set():
        raise ApiError(503, "draining", "The server is shutting down; call again in a moment.", {"Retry-After": "5"})
    auth = await require_auth(request)
    try:
        key = uuid.UUID(interview_id)
    except ValueError as exc:
        raise interview_not_found() from exc
    interview = await owned_interview(app[appkeys.DATABASE], auth.user.id, key)
    if enum_value(interview.status) != "in_progress":
        raise ApiError(409, "interview_not_in_progress", f"This interview is {enum_value(interview.status)}.")
    return CallGrant(interview_id=key, user=auth.user, interview=interview)


def check_pending(app: web.Application, grant: CallGrant, client_address: str) -> None:
    """Refuse (429 ``too_many_pending_calls``) a call from an address that already has
    ``MAX_PENDING_CALLS_PER_ADDRESS`` calls of other users answered but not connected, or being opened: calls
    that never connect hold media ports until their connect timeout."""
    settings = app[appkeys.SETTINGS]
    calls = app[appkeys.CALLS]
    pending = calls.pending_from(client_address, except_user=grant.user_id)
    if len(pending) + calls.opening_from(client_address) < settings.max_pending_calls_per_address:
        return
    oldest = min((c.started_monotonic for c in pending), default=time.monotonic())
    wait = max(1, math.ceil(oldest + settings.connect_timeout_s - time.monotonic()))
    log.warning(
        "refused a call from %s: %d calls from there not connected yet, %d being opened",
        client_address,
        len(pending),
        calls.opening_from(client_address),
    )
    raise ApiError(
        429,
        "too_many_pending_calls",
        "Too many calls from your network are still connecting; try again in a moment.",
        {"Retry-After": str(wait)},
    )


async def admit(app: web.Application, grant: CallGrant) -> CallPlan:
    """End the user's older call (so its last lines are stored first), then plan the new one. The older call may
    be on another worker: it is asked to end through the lease, and the new call waits until it has."""
    lease = app[appkeys.CALL_LEASE]
    holder = await lease.holder(grant.user_id)
    replaced = False
    if holder is not None:
        older = app[appkeys.CALLS].get(holder)
        if older is not None:
            await older.close(REPLACED)
        else:
            await lease.evict(grant.user_id, holder, EVICT_TIMEOUT_S)
        replaced = True
    return await _plan(app, grant, reread=replaced)


async def _plan(app: web.Application, grant: CallGrant, reread: bool) -> CallPlan:
    """Everything the call needs. The interview is read again only when an older call just ended (it added its
    last seconds to the interview's clock, or completed it)."""
    db = app[appkeys.DATABASE]
    key, user = grant.interview_id, grant.user
    interview = await db.get_interview(key, user.id) if reread else grant.interview
    if interview is None or enum_value(interview.status) != "in_progress":
        raise ApiError(409, "interview_not_in_progress", "This interview is no longer in progress.")
    history = [ChatMessage(enum_value(m.role), m.content, enum_value(m.kind)) for m in await db.list_messages(key)]
    settings = app[appkeys.SETTINGS]
    await db.record_activity(key, 0.0)
    context = InterviewContext(
        role=interview.role,
        interview_type=enum_value(interview.interview_type),
        experience_level=enum_value(interview.experience_level),
        duration_minutes=interview.duration_minutes,
        candidate_name=user.full_name,
        seed=str(key),
    )
    # Nothing below awaits before the plan is handed over: whoever opens the call owns these two from here
    # (``on_closed`` once a call ran, ``release`` if opening failed).
    writer = TranscriptWriter(db, key)
    activity = CallActivity(db, key, every_s=min(30.0, settings.abandon_after_s / 4))

    def on_event(call: Any, event: SessionEvent) -> None:
        activity.on_event(call, event)
        writer.on_event(call, event)

    async def release() -> None:
        await writer.close()
        await activity.close()

    async def on_closed(call: Any) -> None:
        await release()
        if call.end_reason in COMPLETING_REASONS:
            await db.complete_interview(key, user.id)
            log.info("interview %s completed (%s)", key, call.end_reason)
            await app[appkeys.FEEDBACK].interview_completed(key)

    return CallPlan(
        interview_id=str(key),
        user_id=grant.user_id,
        context=context,
        history=history,
        elapsed_before=interview.active_seconds or 0.0,
        on_event=on_event,
        on_closed=on_closed,
        release=release,
    )


def session_factory(app: web.Application, plan: CallPlan) -> SessionFactory:
    """A factory of the call's ``CallSession`` with this server's providers and options."""
    settings = app[appkeys.SETTINGS]
    providers = app[appkeys.PROVIDERS]
    options = settings.session_options()

    def new_session(sink: EventSink) -> CallSession:
        return CallSession(
            providers=providers,
            context=plan.context,
            on_event=sink,
            options=options,
            history=plan.history,
            elapsed_before=plan.elapsed_before,
        )

    return new_session


async def register(app: web.Application, call: LiveCall) -> None:
    """Track a started call (the app's hooks attach metrics and the recording); it takes the user's lease (two
    racing offers: the last one wins) and ends with reason ``replaced`` when a newer call takes it, here or on
    another worker."""
    app[appkeys.CALLS].add(call)
    for hook in app[appkeys.CALL_HOOKS]:
        await hook(call)
    if call.user_id is None:
        return
    lease = app[appkeys.CALL_LEASE]
    user_id = call.user_id
    lease.watch(user_id, call.id, lambda: call.spawn_close(REPLACED))

    async def let_go() -> None:
        lease.unwatch(call.id)
        await lease.release(user_id, call.id)

    call.ended_callbacks.append(let_go)
    previous = await lease.take(user_id, call.id)
    older = app[appkeys.CALLS].get(previous) if previous else None
    if older is not None:
        await older.close(REPLACED)


async def end_call(plan: CallPlan, call: LiveCall | None, reason: str) -> None:
    """End an admitted call and release everything it took: the call (whose end runs the plan's after-call
    work) or, when opening failed before a call was made, what planning took. Runs to its end even if the
    request is cancelled."""
    if call is not None:
        await asyncio.shield(call.close(reason))
    elif plan.release is not None:
        await asyncio.shield(plan.release())
