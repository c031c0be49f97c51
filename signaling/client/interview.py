"""A whole loopback interview: sign in, create the interview, hear the greeting, answer, hang up, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.audio import write_wav
from signaling.client.base import Answer, BaseLoopbackCall
from signaling.client.reports import CallReport
from signaling.client.webrtc import LoopbackCall
from signaling.client.websocket import WsLoopbackCall
from voice_agent.audio import OUT_SAMPLE_RATE

TRANSPORTS = ("webrtc", "ws")


def new_loopback_call(base_url: str, transport: str = "webrtc") -> BaseLoopbackCall:
    """A loopback call over ``transport``: ``webrtc`` or ``ws``."""
    if transport == "webrtc":
        return LoopbackCall(base_url)
    if transport == "ws":
        return WsLoopbackCall(base_url)
    raise ValueError(f"unknown transport {transport!r}; expected one of {', '.join(TRANSPORTS)}")


async def run_interview(
    base_url: str,
    answers: list[Answer],
    *,
    email: str | None = None,
    password: str | None = None,
    interview: dict[str, Any] | None = None,
    interview_id: str | None = None,
    record: str | Path | None = None,
    turn_timeout: float = 60.0,
    http: aiohttp.ClientSession | None = None,
    transport: str = "webrtc",
) -> CallReport:
    """A whole call: sign up (or log in), create an interview (unless ``interview_id`` names one), hear the
    greeting, speak each answer after the agent's turn, hear the replies, hang up.

    ``transport`` is ``webrtc`` (``LoopbackCall``) or ``ws`` (``WsLoopbackCall``, the WebSocket stream). Over
    WebRTC the process must have been prepared (``media_setup.prepare_client_process``, or a server started in
    the same process)."""
    call = new_loopback_call(base_url, transport)
    own_http = http is None
    http = http or new_http_session()
    try:
        user = await sign_in(http, base_url, email, password, interview)
        interview_id = interview_id or await create_interview(http, base_url, interview)
        await call.connect(http, interview_id)
        index = 0
        if not answers or answers[0].barge_in_after_s is None:
            index, _ = await call.wait_agent_turn(0, turn_timeout)
        turns = []
        for answer in answers:
            if call.ended_reason() is not None:
                break
            report, index = await call.speak_answer(answer, index, turn_timeout)
            turns.append(report)
        await call.hang_up()
    finally:
        await call.close()
        if own_http:
            await http.close()
    audio = call.recorder.audio()
    if record is not None:
        write_wav(record, audio)
    max_gap_s, max_gap_at_s = call.recorder.max_gap()
    return CallReport(
        user_email=user["email"],
        interview_id=interview_id,
        call_id=call.call_id,
        greeting=call.greeting(),
        turns=turns,
        ended_reason=call.ended_reason(),
        agent_audio_seconds=round(len(audio) / OUT_SAMPLE_RATE, 2),
        inbound_max_gap_ms=round(max_gap_s * 1000, 1),
        inbound_max_gap_at_s=round(max_gap_at_s, 2),
        inbound_frames=len(call.recorder.arrivals),
        events=call.events,
    )
