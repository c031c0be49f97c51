"""HTTP signaling: ``POST /api/interviews/{id}/rtc`` takes an SDP offer and answers (non-trickle)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiortc import RTCSessionDescription

from signaling import admission
from signaling.planner import CallGrant
from signaling.rtc_call import MediaPortsExhausted, OfferError, RtcCall
from signaling.sdp import announce_public_ip
from web import appkeys
from web.errors import ApiError, read_json
from web.proxies import client_ip
from web.turn import server_ice_servers

log = logging.getLogger(__name__)

MAX_SDP_CHARS = 64_000
#: When a caller refused for want of media ports may try again (ports free up as calls end or time out).
PORTS_RETRY_AFTER_S = 5


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
    if not sdp.lstrip().startswith("v=0"):
        raise ApiError(400, "invalid_sdp", "The offer must be an SDP session with an audio track.")
    app = request.app
    address = client_ip(request)
    admission.check_pending(app, grant, address)
    with app[appkeys.CALLS].opening(address):
        call, answer = await _open(request, grant, sdp, address)
    log.info("call %s interview %s: answered", call.id, call.interview_id)
    sdp_answer = announce_public_ip(answer.sdp, app[appkeys.SETTINGS].rtc_public_ip)
    return web.json_response({"sdp": sdp_answer, "type": answer.type, "call_id": call.id})


async def _open(
    request: web.Request, grant: CallGrant, sdp: str, address: str
) -> tuple[RtcCall, RTCSessionDescription]:
    """Admit, answer and register the call; whatever fails after admission releases everything it took."""
    app = request.app
    settings = app[appkeys.SETTINGS]
    plan = await admission.admit(app, grant)
    call: RtcCall | None = None
    reason = "open_failed"
    try:
        call = RtcCall(
            interview_id=plan.interview_id,
            user_id=plan.user_id,
            client_address=address,
            session_factory=admission.session_factory(app, plan),
            ice_servers=server_ice_servers(settings, plan.user_id),
            on_event=plan.on_event,
            on_closed=plan.on_closed,
            media_timeout_s=settings.media_timeout_s,
            connect_timeout_s=settings.connect_timeout_s,
        )
        try:
            answer = await call.answer(sdp)
        except OfferError as exc:
            reason = "bad_offer"
            raise ApiError(400, "invalid_sdp", str(exc)) from exc
        except MediaPortsExhausted as exc:
            reason = "media_ports_exhausted"
            log.error("call %s interview %s: every media port is taken", call.id, call.interview_id)
            raise ApiError(
                503,
                "media_ports_exhausted",
                "The server has no free media port right now; try again in a moment.",
                {"Retry-After": str(PORTS_RETRY_AFTER_S)},
            ) from exc
        await admission.register(app, call)
    except BaseException:
        await admission.end_call(plan, call, reason)
        raise
    return call, answer


def add_routes(app: web.Application) -> None:
    """Register the signaling routes."""
    app.router.add_post("/api/interviews/{interview_id}/rtc", post_rtc_offer)
