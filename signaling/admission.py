"""Admitting a call, whatever its transport: who may open it, the older call it replaces, the session it runs,
and its place in the registry and the one-call-per-user lease."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time

from aiohttp import web

from signaling.live_call import LiveCall, SessionFactory
from signaling.planner import CallGrant, CallPlan
from voice_agent.session import CallSession, EventSink
from web import appkeys
from web.errors import ApiError

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REPLACED = "replaced"
#: How long a new call waits for an older call of the same user on another worker to end and let go.
EVICT_TIMEOUT_S = 5.0


async def authorize(request: web.Request, interview_id: str) -> CallGrant:
    """May this request open a call for this interview? (404 for a malformed id, 503 while draining.)"""
    if not _ID.match(interview_id):
        raise ApiError(404, "not_found", "No such interview.")
    if request.app[appkeys.DRAINING].is_set():
        raise ApiError(503, "draining", "The server is shutting down; call again in a moment.", {"Retry-After": "5"})
    return await request.app[appkeys.CALL_PLANNER].authorize(request, interview_id)


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
    log.warning("refused a call from %s: %d calls from there not connected yet", client_address, len(pending))
    raise ApiError(
        429,
        "too_many_pending_calls",
        "Too many calls from your network are still connecting; try again in a moment.",
        {"Retry-After": str(wait)},
    )


async def end_call(plan: CallPlan, call: LiveCall | None, reason: str) -> None:
    """End an admitted call and release everything it took: the call (whose end runs the plan's after-call
    work) or, when opening failed before a call was made, what planning took. Runs to its end even if the
    request is cancelled."""
    if call is not None:
        await asyncio.shield(call.close(reason))
    elif plan.release is not None:
        await asyncio.shield(plan.release())


async def admit(app: web.Application, grant: CallGrant) -> CallPlan:
    """End the user's older call (so its last lines are stored first), then plan the new one. The older call may
    be on another worker: it is asked to end through the lease, and the new call waits until it has."""
    if grant.user_id is not None:
        lease = app[appkeys.CALL_LEASE]
        holder = await lease.holder(grant.user_id)
        if holder is not None:
            older = app[appkeys.CALLS].get(holder)
            if older is not None:
                await older.close(REPLACED)
            else:
                await lease.evict(grant.user_id, holder, EVICT_TIMEOUT_S)
    return await app[appkeys.CALL_PLANNER].plan(grant)


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
