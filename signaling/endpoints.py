"""HTTP signaling: ``POST /api/interviews/{id}/rtc`` takes an SDP offer and answers (non-trickle)."""

from __future__ import annotations

import logging

from aiohttp import web

from signaling import admission
from signaling.rtc_call import OfferError, RtcCall
from signaling.sdp import announce_public_ip
from web import appkeys
from web.errors import ApiError, read_json

log = logging.getLogger(__name__)

MAX_SDP_CHARS = 64_000


async def post_rtc_offer(request: web.Request) -> web.Response:
    """Open a call for an interview: SDP offer in, SDP answer out."""
    interview_id = request.match_info["interview_id"]
    body = await read_json(request)
    grant = await admission.authorize(request, interview_id)
    sdp, sdp_type = body.get("sdp"), body.get("type", "offer")
    if not isinstance(sdp, str) or not sdp.strip():
        raise ApiError(400, "invalid_sdp", "'sdp' must be the SDP offer as a string.")
    if len(sdp) > MAX_SDP_CHARS:
        raise ApiError(400, "invalid_sdp", "The SDP offer is too long.")
    if sdp_type != "offer":
        raise ApiError(400, "invalid_sdp", "'type' must be 'offer'.")
    if not sdp.lstrip().startswith("v=0") or "m=audio" not in sdp:
        raise ApiError(400, "invalid_sdp", "The offer must be an SDP session with an audio track.")
    app = request.app
    plan = await admission.admit(app, grant)
    settings = app[appkeys.SETTINGS]
    call = RtcCall(
        interview_id=plan.interview_id,
        user_id=plan.user_id,
        session_factory=admission.session_factory(app, plan),
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
    await admission.register(app, call)
    log.info("call %s interview %s: answered", call.id, call.interview_id)
    sdp_answer = announce_public_ip(answer.sdp, settings.rtc_public_ip)
    return web.json_response({"sdp": sdp_answer, "type": answer.type, "call_id": call.id})


def add_routes(app: web.Application) -> None:
    """Register the signaling routes."""
    app.router.add_post("/api/interviews/{interview_id}/rtc", post_rtc_offer)
