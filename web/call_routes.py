"""Opening a call over HTTP: ``POST /api/interviews/{id}/rtc`` (an SDP offer in, the answer out, non-trickle)
and ``WS /api/interview/stream/{id}`` (the stream transport, ``signaling/ws_stream.py``).

Both go through one flow, ``open_call``: authorize (cookie, owner, interview in progress), admit (the user's
older call ends, the new one is planned), make the transport's call from plain values, register it; whatever
fails after admission releases everything it took.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from aiohttp import web
from aiortc import RTCSessionDescription

from signaling.live_call import LiveCall
from signaling.rtc_call import MediaPortsExhausted, OfferError, RtcCall
from signaling.sdp import announce_public_ip
from signaling.ws_stream import CLOSE_TIMEOUT_S, HEARTBEAT_S, MAX_MESSAGE_BYTES, StreamLimits, WsCall
from web import admission, appkeys
from web.admission import CallPlan
from web.errors import ApiError, read_json
from web.middlewares import origin_allowed
from web.proxies import client_ip
from web.settings import Settings
from web.turn import server_ice_servers

log = logging.getLogger(__name__)

STREAM_PATH = "/api/interview/stream/{session_id}"
MAX_SDP_CHARS = 64_000
#: When a caller refused for want of media ports may try again (ports free up as calls end or time out).
PORTS_RETRY_AFTER_S = 5

Call = TypeVar("Call", bound=LiveCall)


class CallOpening:
    """The call being opened: its plan, and the call once the transport has made it. ``fail_reason`` is the end
    reason if opening fails from here."""

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan
        self.call: LiveCall | None = None
        self.fail_reason = "open_failed"

    def common(self, app: web.Application) -> dict[str, Any]:
        """What every transport's call is made with."""
        settings = app[appkeys.SETTINGS]
        return {
            "interview_id": self.plan.interview_id,
            "user_id": self.plan.user_id,
            "session_factory": admission.session_factory(app, self.plan),
            "on_event": self.plan.on_event,
            "on_closed": self.plan.on_closed,
            "media_timeout_s": settings.media_timeout_s,
        }

    def made(self, call: Call) -> Call:
        """The transport made the call: from now on it owns the plan's resources."""
        self.call = call
        return call


@contextlib.asynccontextmanager
async def open_call(request: web.Request, grant: admission.CallGrant) -> AsyncIterator[CallOpening]:
    """Admit a call and hand it to the block, which makes the transport's call and registers it. If the block
    fails the call (or, before one was made, the plan) is released; the block's own errors go on."""
    plan = await admission.admit(request.app, grant)
    opening = CallOpening(plan)
    try:
        yield opening
    except BaseException:
        await admission.end_call(plan, opening.call, opening.fail_reason)
        raise


async def post_rtc_offer(request: web.Request) -> web.Response:
    """Open a call for an interview: SDP offer in, SDP answer out."""
    body = await read_json(request)
    grant = await admission.authorize(request, request.match_info["interview_id"])
    sdp = _offer_sdp(body)
    app = request.app
    settings = app[appkeys.SETTINGS]
    address = client_ip(request)
    admission.check_pending(app, grant, address)
    with app[appkeys.CALLS].opening(address):
        async with open_call(request, grant) as opening:
            call = opening.made(
                RtcCall(
                    **opening.common(app),
                    client_address=address,
                    ice_servers=server_ice_servers(settings, grant.user_id),
                    connect_timeout_s=settings.connect_timeout_s,
                    opus_complexity=settings.opus_complexity,
                )
            )
            answer = await _answer(call, sdp, opening)
            await admission.register(app, call)
    log.info("call %s interview %s: answered", call.id, call.interview_id)
    sdp_answer = announce_public_ip(answer.sdp, settings.rtc_public_ip)
    return web.json_response({"sdp": sdp_answer, "type": answer.type, "call_id": call.id})


def _offer_sdp(body: dict[str, Any]) -> str:
    """The offer's SDP, or a 400 ``invalid_sdp`` saying what is wrong."""
    sdp, sdp_type = body.get("sdp"), body.get("type", "offer")
    if not isinstance(sdp, str) or not sdp.strip():
        raise ApiError(400, "invalid_sdp", "'sdp' must be the SDP offer as a string.")
    if len(sdp) > MAX_SDP_CHARS:
        raise ApiError(400, "invalid_sdp", "The SDP offer is too long.")
    if sdp_type != "offer":
        raise ApiError(400, "invalid_sdp", "'type' must be 'offer'.")
    if not sdp.lstrip().startswith("v=0"):
        raise ApiError(400, "invalid_sdp", "The offer must be an SDP session with an audio track.")
    return sdp


async def _answer(call: RtcCall, sdp: str, opening: CallOpening) -> RTCSessionDescription:
    """The call's answer; a refused offer says why (400), and so does a server without a free media port (503)."""
    try:
        return await call.answer(sdp)
    except OfferError as exc:
        opening.fail_reason = "bad_offer"
        raise ApiError(400, "invalid_sdp", str(exc)) from exc
    except MediaPortsExhausted as exc:
        opening.fail_reason = "media_ports_exhausted"
        log.error("call %s interview %s: every media port is taken", call.id, call.interview_id)
        raise ApiError(
            503,
            "media_ports_exhausted",
            "The server has no free media port right now; try again in a moment.",
            {"Retry-After": str(PORTS_RETRY_AFTER_S)},
        ) from exc


def _check_origin(request: web.Request) -> None:
    """A page of another site must not open a call with the candidate's cookie (no ``Origin``: not a browser)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise ApiError(403, "forbidden_origin", "Cross-site requests are not allowed.")
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(request, origin):
        raise ApiError(403, "forbidden_origin", "This origin may not open a call here.")


async def stream_call(request: web.Request) -> web.StreamResponse:
    """Open a call for an interview over a WebSocket, and run it until either side ends it."""
    _check_origin(request)
    grant = await admission.authorize(request, request.match_info["session_id"])
    # No per-message deflate (browsers offer it): base64 PCM shrinks little, and zlib would run on every chunk.
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES, timeout=CLOSE_TIMEOUT_S, compress=False
    )
    if not ws.can_prepare(request).ok:
        raise ApiError(426, "websocket_required", "Open this URL as a WebSocket.", {"Upgrade": "websocket"})
    app = request.app
    settings = app[appkeys.SETTINGS]
    call: WsCall | None = None
    try:
        async with open_call(request, grant) as opening:
            await ws.prepare(request)
            call = opening.made(
                WsCall(
                    ws,
                    **opening.common(app),
                    client_address=client_ip(request),
                    limits=stream_limits(settings),
                    connection=request.transport,
                    frames_per_message=settings.ws_frames_per_message,
                )
            )
            call.start_streaming()
            await admission.register(app, call)
    except ConnectionResetError:
        # The client went away during the upgrade: there is nobody to answer.
        log.info("interview %s: the websocket connection was reset while opening", grant.interview_id)
        return ws
    try:
        log.info("call %s interview %s: websocket open", call.id, call.interview_id)
        await call.run()
    finally:
        await call.close("hangup")
    return ws


def stream_limits(settings: Settings) -> StreamLimits:
    """The limits of one stream from the app's settings (the ``WS_*`` variables)."""
    return StreamLimits(
        outbox_messages=settings.ws_outbox_max_messages,
        outbox_bytes=settings.ws_outbox_max_bytes,
        bad_message_burst=settings.ws_bad_message_burst,
        bad_messages_per_s=settings.ws_bad_messages_per_s,
        audio_allowance_s=settings.ws_audio_allowance_s,
    )


def add_routes(app: web.Application) -> None:
    """Register the routes that open calls."""
    app.router.add_post("/api/interviews/{interview_id}/rtc", post_rtc_offer)
    app.router.add_get(STREAM_PATH, stream_call)
