"""HTTP signaling: ``POST /api/interviews/{id}/rtc`` takes an SDP offer and answers (non-trickle)."""

from __future__ import annotations

import logging
import re

from aiohttp import web

from signaling.rtc_call import OfferError, RtcCall
from voice_agent.session import CallSession, EventSink
from web import appkeys
from web.errors import ApiError, read_json

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SDP_CHARS = 64_000
REPLACED = "replaced"


async def post_rtc_offer(request: web.Request) -> web.Response:
    """Open a call for an interview: SDP offer in, SDP answer out."""
    interview_id = request.match_info["interview_id"]
    if not _ID.match(interview_id):
        raise ApiError(404, "not_found", "No such interview.")
    body = await read_json(request)
    app = request.app
    planner = app[appkeys.CALL_PLANNER]
    grant = await planner.authorize(request, interview_id)
    sdp, sdp_type = body.get("sdp"), body.get("type", "offer")
    if not isinstance(sdp, str) or not sdp.strip():
        raise ApiError(400, "invalid_sdp", "'sdp' must be the SDP offer as a string.")
    if len(sdp) > MAX_SDP_CHARS:
        raise ApiError(400, "invalid_sdp", "The SDP offer is too long.")
    if sdp_type != "offer":
        raise ApiError(400, "invalid_sdp", "'type' must be 'offer'.")
    if not sdp.lstrip().startswith("v=0") or "m=audio" not in sdp:
        raise ApiError(400, "invalid_sdp", "The offer must be an SDP session with an audio track.")
    calls = app[appkeys.CALLS]
    lease = app[appkeys.CALL_LEASE]
    if grant.user_id is not None:
        # One live call per user: the newest wins (a reload must never lock the candidate out). The older call
        # ends first, so its last lines are stored before the new call reads the history.
        holder = await lease.holder(grant.user_id)
        older = calls.get(holder) if holder else None
        if older is not None:
            await older.close(REPLACED)
    plan = await planner.plan(grant)
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

    call = RtcCall(
        interview_id=plan.interview_id,
        user_id=plan.user_id,
        session_factory=new_session,
        ice_servers=settings.ice_servers,
        on_event=plan.on_event,
        on_closed=plan.on_closed,
        media_timeout_s=settings.media_timeout_s,
    )
    try:
        answer = await call.answer(sdp, sdp_type)
    except OfferError as exc:
        await call.close("bad_offer")
        raise ApiError(400, "invalid_sdp", str(exc)) from exc
    calls.add(call)
    if call.user_id is not None:
        # Two offers racing for the same user: the last one answered takes the lease and wins.
        previous = await lease.take(call.user_id, call.id)
        older = calls.get(previous) if previous else None
        if older is not None:
            await older.close(REPLACED)
        call.ended_callbacks.append(lambda: lease.release(call.user_id, call.id))
    log.info("call %s interview %s: answered", call.id, call.interview_id)
    return web.json_response({"sdp": answer.sdp, "type": answer.type, "call_id": call.id})


def add_routes(app: web.Application) -> None:
    """Register the signaling routes."""
    app.router.add_post("/api/interviews/{interview_id}/rtc", post_rtc_offer)
