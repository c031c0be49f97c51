"""What one misbehaving client may cost the server over the WebSocket stream and the data channel: a flood of
bad messages ends its call, a client that does not read cannot make the server queue without bound, audio
faster than real time is dropped, and a deeply nested JSON message is just invalid JSON.

The limits are those of ``signaling/ws_stream.py`` (``StreamLimits``), documented in the README's WebSocket
section; a test that needs a smaller one starts its own server with it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time

import aiohttp
import numpy as np

from signaling.client.api import create_interview, new_http_session, sign_in
from signaling.client.webrtc import LoopbackCall
from signaling.client.websocket import WsLoopbackCall, stream_url
from signaling.messages import parse_client_message
from signaling.ws_stream import StreamLimits, TokenBucket
from tests.conftest import start_server, test_settings
from tests.signaling.test_call import INTERVIEW

LIMITS = StreamLimits()
NESTED = ["[" * 100_000, '{"a":' * 20_000]


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def candidate(server) -> tuple[aiohttp.ClientSession, str]:
    """A logged-in client and a new interview of theirs."""
    http = new_http_session()
    await sign_in(http, server.url, interview=INTERVIEW)
    return http, await create_interview(http, server.url, INTERVIEW)


async def open_stream(http: aiohttp.ClientSession, server, interview_id: str):
    """A bare WebSocket on the interview's stream (no microphone, nothing read unless asked) and its call."""
    ws = await http.ws_connect(stream_url(server.url, interview_id))
    first = await ws.receive_json(timeout=10)
    assert first["type"] == "call"
    live = server.calls.get(first["call_id"])
    assert live is not None
    return ws, live


async def read_until_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 15.0) -> list[dict]:
    """Every event the server sent (audio left out) until the socket closed."""
    events = []
    async with asyncio.timeout(timeout):
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(message.data)
                if event.get("type") != "audio":
                    events.append(event)
    return events


def silence(seconds: float) -> str:
    """An audio message of silence at 16 kHz."""
    pcm = np.zeros(int(16_000 * seconds), np.int16).tobytes()
    return json.dumps({"type": "audio", "data": base64.b64encode(pcm).decode()})


def errors(events: list[dict], code: str) -> list[dict]:
    return [e for e in events if e.get("type") == "error" and e.get("code") == code]


# ---------------------------------------------------------------------------------------------- item 4


async def test_a_client_flooding_bad_frames_without_reading_is_cut_off(server):
    http, interview_id = await candidate(server)
    try:
        ws, live = await open_stream(http, server, interview_id)
        for _ in range(5_000):  # as fast as the socket takes them, reading nothing
            await ws.send_str("x")
        events = await read_until_closed(ws)

        # The call ended, said why, and the socket closed with "policy violation".
        assert [e["reason"] for e in events if e["type"] == "ended"] == ["too_many_bad_messages"]
        assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
        # A few error events explained it; not one per bad frame.
        assert 1 <= len(errors(events, "invalid_json")) <= LIMITS.error_burst + 2
        await until(lambda: server.calls.get(live.id) is None)
        stats = await live.transport_stats()
        # The server stopped reading at the limit and never queued more than a handful of events.
        assert stats["bad_messages_in"] <= LIMITS.bad_message_burst + 5
        assert stats["outbox_peak_messages"] <= LIMITS.bad_message_burst
        assert stats["errors_suppressed"] > 0
    finally:
        await http.close()


async def test_a_client_that_does_not_read_cannot_grow_the_servers_queue(tmp_path):
    # A small outbox, and room for many bad messages so that the outbox, not the bad-message limit, ends it.
    runner, running = await start_server(test_settings(tmp_path, ws_outbox_max_messages=4, ws_bad_message_burst=10_000))
    http, interview_id = await candidate(running)
    try:
        ws, live = await open_stream(http, running, interview_id)
        # Small socket buffers both ends, so the agent's greeting soon fills them and the server's writer
        # waits on a client that reads nothing.
        ws.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        live.ws.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        kinds = ["x", json.dumps({"type": "dance"}), json.dumps({"type": "audio", "data": "AA=="}), b"\x00"]
        sent = 0
        while running.calls.get(live.id) is not None:
            message = kinds[sent % len(kinds)]
            await (ws.send_bytes(message) if isinstance(message, bytes) else ws.send_str(message))
            sent += 1
            assert sent < 2_000, "the call never ended"
            await asyncio.sleep(0.01)
        assert live.end_reason == "client_too_slow"
        stats = await live.transport_stats()
        assert stats["outbox_peak_messages"] <= 4

        # The server let go of the connection: a client that reads again finds it closed.
        await read_until_closed(ws)
        assert ws.closed
    finally:
        await http.close()
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------- item 6


def test_a_nested_message_is_not_a_client_message():
    for text in [*NESTED, "[" * 1000, '{"a":' * 1000]:
        assert parse_client_message(text) is None
    assert parse_client_message('{"type": "end"}') == {"type": "end"}
    assert parse_client_message("[1]") is None and parse_client_message(b"{}") is None


async def test_a_deeply_nested_message_on_a_ws_call_is_invalid_json_and_the_call_goes_on(server):
    http, interview_id = await candidate(server)
    call = WsLoopbackCall(server.url)
    try:
        await call.connect(http, interview_id)
        live = server.calls.get(call.call_id)
        for message in NESTED:
            call.send_raw(message)
        await until(lambda: len(errors(call.events, "invalid_json")) == len(NESTED), timeout=10)
        assert call.ended_reason() is None

        # The candidate's audio still arrives, and hanging up ends the call the usual way.
        frames = live.inbound_frames
        await until(lambda: live.inbound_frames > frames + 10, timeout=10)
        await call.hang_up()
        assert call.ended_reason() == "candidate_ended"
        await until(lambda: call.close_code is not None, timeout=10)  # the close frame follows `ended`
        assert call.close_code == aiohttp.WSCloseCode.OK
    finally:
        await call.close()
        await http.close()


async def test_a_deeply_nested_message_on_the_data_channel_is_invalid_json_and_the_call_goes_on(server):
    http, interview_id = await candidate(server)
    call = LoopbackCall(server.url)
    try:
        await call.connect(http, interview_id)
        await call.wait_event(lambda e: e.get("type") == "state", timeout=15)
        for message in [*NESTED, b"binary"]:
            call.send_raw(message)
        await until(lambda: len(errors(call.events, "invalid_json")) == len(NESTED), timeout=10)
        await until(lambda: len(errors(call.events, "binary_not_supported")) == 1, timeout=10)
        assert call.ended_reason() is None

        live = server.calls.get(call.call_id)
        frames = live.inbound_frames
        await until(lambda: live.inbound_frames > frames + 10, timeout=10)
        await call.hang_up()
        assert call.ended_reason() == "candidate_ended"
    finally:
        await call.close()
        await http.close()


# --------------------------------------------------------------------------------------------- item 11


def test_the_audio_budget_is_real_time_plus_the_allowance():
    now = [0.0]
    budget = TokenBucket(2.0, 1.0, clock=lambda: now[0])
    # 20 ms every 20 ms for a minute: always taken.
    for _ in range(3000):
        now[0] += 0.02
        assert budget.take(0.02)
    # Ten seconds at once: about the allowance is taken (less the frame in flight), the rest refused.
    taken = sum(0.02 for _ in range(500) if budget.take(0.02))
    assert 2.0 - 0.03 <= taken <= 2.0
    # Waiting refills it, but never beyond the allowance.
    now[0] += 60.0
    assert sum(budget.take(1.0) for _ in range(10)) == 2


async def test_audio_faster_than_real_time_is_dropped_and_a_client_that_then_behaves_goes_on(server):
    http, interview_id = await candidate(server)
    call = WsLoopbackCall(server.url)  # its microphone sends 20 ms every 20 ms
    try:
        await call.connect(http, interview_id)
        live = server.calls.get(call.call_id)
        await asyncio.sleep(1.0)
        assert not errors(call.events, "audio_too_fast")

        # Ten seconds of audio at once, on top of the microphone.
        for _ in range(10):
            call.send_raw(silence(1.0))
        await call.wait_event(lambda e: e.get("type") == "error" and e.get("code") == "audio_too_fast", timeout=10)
        stats = await live.transport_stats()
        elapsed = time.monotonic() - live.started_monotonic
        # What the server took is real time plus the allowance; most of the burst was dropped.
        assert stats["audio_seconds_in"] <= elapsed + LIMITS.audio_allowance_s + 0.05
        assert stats["audio_seconds_dropped"] >= 10 - LIMITS.audio_allowance_s - 0.5

        # The microphone goes on in real time: after a moment, nothing more is dropped and it is all heard.
        await asyncio.sleep(1.0)
        dropped = (await live.transport_stats())["audio_seconds_dropped"]
        frames = live.inbound_frames
        await asyncio.sleep(2.0)
        stats = await live.transport_stats()
        assert stats["audio_seconds_dropped"] == dropped
        assert live.inbound_frames - frames >= 2.0 / 0.02 * 0.8
        # The refusals were told, but not once per dropped message.
        assert 1 <= len(errors(call.events, "audio_too_fast")) <= LIMITS.error_burst + 5
        await call.hang_up()
        assert call.ended_reason() == "candidate_ended"
    finally:
        await call.close()
        await http.close()


async def test_a_client_sending_in_real_time_is_never_refused(server):
    http, interview_id = await candidate(server)
    call = WsLoopbackCall(server.url)
    try:
        await call.connect(http, interview_id)
        live = server.calls.get(call.call_id)
        await call.wait_agent_turn(0, timeout=60)
        stats = await live.transport_stats()
        assert stats["audio_seconds_in"] > 3.0 and stats["audio_seconds_dropped"] == 0
        assert not errors(call.events, "audio_too_fast")
        await call.hang_up()
        assert call.ended_reason() == "candidate_ended"
    finally:
        await call.close()
        await http.close()
