"""The seed's stream transport: ``WS /api/interview/stream/{session_id}`` drives a ``CallSession`` over a WebSocket.

The same admission path as WebRTC (cookie, owner, one live call per user), the same JSON events, and the
audio as base64 PCM inside JSON text frames.

Client → server (text frames, JSON objects):

- ``{"type": "audio", "data": "<base64>"}``: the candidate's microphone, 16-bit signed little-endian mono PCM
  at 16 kHz; ``"sample_rate"`` (8000 to 48000) may declare another rate. At most one second per message; 20 ms
  messages sent in real time, silence included, are what a microphone gives. Audio must keep coming: a call
  whose audio stops for ``MEDIA_TIMEOUT_S`` ends with ``media_timeout``.
- ``{"type": "end"}``, ``{"type": "mute"}``, ``{"type": "unmute"}``: as on the WebRTC data channel.

A malformed message gets an ``error`` event (``invalid_json``, ``unknown_message``, ``invalid_audio``,
``audio_too_long``, ``binary_not_supported``) and the call goes on.

Server → client (text frames, JSON objects):

- ``{"type": "call", "call_id": "..."}`` first, then the data channel's events: ``state``, ``transcript``,
  ``metrics``, ``error``, ``ended``.
- ``{"type": "audio", "data": "<base64>", "sample_rate": 48000, "pts": N}``: the agent's voice, 16-bit signed
  little-endian mono PCM at 48 kHz, 20 to 40 ms per message. ``pts`` is the position of the chunk's first
  sample on the call's 48 kHz clock. Silence is not sent: a gap in ``pts`` (and in time) is silence, and
  a client plays each chunk at its ``pts`` (or simply as it arrives, treating gaps as silence).

After ``ended`` the server closes the socket (close code 1000, the reason as the close message). A client
that closes the socket hangs up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import json
import logging
import time
from typing import Any

import numpy as np
from aiohttp import WSCloseCode, WSMsgType, web

from signaling import admission
from signaling.live_call import LiveCall
from voice_agent.audio import FRAME_MS, OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, VAD_SAMPLE_RATE
from web import appkeys
from web.errors import ApiError
from web.middlewares import _origin_allowed
from web.proxies import client_ip

log = logging.getLogger(__name__)

STREAM_PATH = "/api/interview/stream/{session_id}"
FRAME_SECONDS = FRAME_MS / 1000
#: Behind schedule by more than this, the clock is reset instead of bursting frames to catch up.
MAX_LAG_SECONDS = 0.2
#: The agent's 20 ms frames grouped into one audio message (40 ms: one frame of added latency).
FRAMES_PER_MESSAGE = 2
#: The longest audio chunk a client may send, in seconds.
MAX_CHUNK_SECONDS = 1.0
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 48_000
#: Room for one second of 48 kHz PCM in base64 inside JSON.
MAX_MESSAGE_BYTES = 256 * 1024
#: Ping the client this often; a socket without a pong for half of it is dropped.
HEARTBEAT_S = 10.0
#: How long a server-side close waits for the client's close frame.
CLOSE_TIMEOUT_S = 2.0
CLIENT_MESSAGES = ("audio", "end", "mute", "unmute")


class FrameClock:
    """A steady 20 ms clock, with ``PacedAudioTrack``'s pacing: it never bursts to catch up a long stall.

    Frame ``n`` is due at ``start + n * frame_s``; ``tick()`` marks the next frame as produced now. A frame
    produced more than one frame late counts in ``late_frames``; more than ``MAX_LAG_SECONDS`` late, the clock
    restarts from now.
    """

    def __init__(self, frame_s: float = FRAME_SECONDS, max_lag_s: float = MAX_LAG_SECONDS) -> None:
        self.frame_s = frame_s
        self.max_lag_s = max_lag_s
        self._start: float | None = None
        #: Frames produced so far (the index of the next one).
        self.frames = 0
        self.late_frames = 0

    def due(self) -> float:
        """When the next frame is due (``time.monotonic()``); now for the first frame."""
        if self._start is None:
            return time.monotonic()
        return self._start + self.frames * self.frame_s

    def tick(self) -> None:
        """The next frame is being produced now."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            lag = now - (self._start + self.frames * self.frame_s)
            if lag > self.frame_s:
                self.late_frames += 1
                if lag > self.max_lag_s:
                    self._start = now - self.frames * self.frame_s
        self.frames += 1

    async def wait(self) -> None:
        """Sleep until the next frame is due, then ``tick()``."""
        delay = self.due() - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.tick()


class BadMessage(ValueError):
    """A client message the call cannot use; ``code`` and the message go back in an ``error`` event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def decode_audio(data: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The samples and rate of a client ``audio`` message, or ``BadMessage`` saying what is wrong."""
    rate = data.get("sample_rate", VAD_SAMPLE_RATE)
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise BadMessage(
            "invalid_audio", f"'sample_rate' must be an integer from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}."
        )
    payload = data.get("data")
    if not isinstance(payload, str):
        raise BadMessage("invalid_audio", "'data' must be base64 of 16-bit little-endian mono PCM.")
    if len(payload) > (MAX_CHUNK_SECONDS * rate * 2 + 2) * 4 / 3 + 4:
        raise BadMessage("audio_too_long", f"An audio message may hold at most {MAX_CHUNK_SECONDS:g} s of audio.")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadMessage("invalid_audio", "'data' is not valid base64.") from exc
    if len(raw) % 2:
        raise BadMessage("invalid_audio", "'data' must hold whole 16-bit samples (an even number of bytes).")
    if len(raw) > MAX_CHUNK_SECONDS * rate * 2:
        raise BadMessage("audio_too_long", f"An audio message may hold at most {MAX_CHUNK_SECONDS:g} s of audio.")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False), rate


class WsCall(LiveCall):
    """A live call over a prepared ``web.WebSocketResponse``.

    One task writes to the socket (aiohttp websockets must not be written concurrently): the paced sender,
    which pulls the agent's next 20 ms every 20 ms and, between frames, writes the events ``_deliver`` queued.
    The request handler reads the socket with ``receive()``.
    """

    transport = "websocket"

    def __init__(
        self, ws: web.WebSocketResponse, *, frames_per_message: int = FRAMES_PER_MESSAGE, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.ws = ws
        self.frames_per_message = max(1, frames_per_message)
        self.clock = FrameClock()
        self._outbox: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._finishing = False
        self.messages_in = 0
        self.bytes_in = 0
        self.audio_chunks_in = 0
        self.audio_seconds_in = 0.0
        self.bad_messages_in = 0
        self.messages_out = 0
        self.bytes_out = 0
        self.audio_chunks_out = 0
        self.audio_frames_out = 0

    # ------------------------------------------------------------------ sending

    def start_streaming(self) -> None:
        """Start the paced sender (events and the agent's voice); the first message names the call."""
        self._deliver(json.dumps({"type": "call", "call_id": self.id}))
        self._sender = asyncio.get_running_loop().create_task(self._send_loop(), name=f"ws-sender-{self.id}")

    def _deliver(self, message: str) -> None:
        self._outbox.append(message)
        self._wake.set()

    async def _write(self, message: str) -> None:
        await self.ws.send_str(message)
        self.messages_out += 1
        self.bytes_out += len(message)

    async def _flush_outbox(self) -> None:
        while self._outbox:
            await self._write(self._outbox.popleft())

    async def _send_loop(self) -> None:
        try:
            await self._stream()
        except ConnectionError as exc:
            # The socket went away under the writer; the reader sees it too, this only makes sure.
            log.info("call %s: websocket write failed (%s)", self.id, exc.__class__.__name__)
            self.spawn_close("hangup")
        except Exception:
            log.exception("call %s: the websocket sender failed", self.id)
            self.spawn_close("internal_error")

    async def _stream(self) -> None:
        clock = self.clock
        pending: list[np.ndarray] = []
        pending_pts = 0
        while True:
            # Events go out as soon as they are queued, until the next frame is due.
            due = clock.due()
            while True:
                self._wake.clear()
                if self.ws.closed:
                    return
                await self._flush_outbox()
                if self._finishing:
                    return
                remaining = due - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._wake.wait()
            clock.tick()
            pts = (clock.frames - 1) * OUT_FRAME_SAMPLES
            frame = self.pull_agent_frame()
            if frame.any():
                if not pending:
                    pending_pts = pts
                pending.append(frame)
                if len(pending) < self.frames_per_message:
                    continue
            elif not pending:
                continue  # silence is not sent
            await self._send_audio(pending, pending_pts)
            pending = []

    async def _send_audio(self, frames: list[np.ndarray], pts: int) -> None:
        pcm = frames[0] if len(frames) == 1 else np.concatenate(frames)
        data = base64.b64encode(pcm.astype("<i2", copy=False).tobytes()).decode("ascii")
        # Built by hand: base64 needs no JSON escaping, and this runs up to 50 times a second.
        await self._write(f'{{"type":"audio","data":"{data}","sample_rate":{OUT_SAMPLE_RATE},"pts":{pts}}}')
        self.audio_chunks_out += 1
        self.audio_frames_out += len(frames)

    # ------------------------------------------------------------------ receiving

    async def receive(self) -> None:
        """Read the client's messages until the socket closes (or the call closes it)."""
        async for message in self.ws:
            if message.type == WSMsgType.TEXT:
                self._on_text(message.data)
            elif message.type == WSMsgType.BINARY:
                self.messages_in += 1
                self.bytes_in += len(message.data)
                self._reject(
                    BadMessage("binary_not_supported", "Send JSON text messages; audio goes base64 in 'data'.")
                )
            elif message.type == WSMsgType.ERROR:
                log.info("call %s: websocket error: %s", self.id, self.ws.exception())
                self.end_reason = self.end_reason or "connection_failed"
                break

    def _on_text(self, text: str) -> None:
        self.messages_in += 1
        self.bytes_in += len(text)
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._reject(BadMessage("invalid_json", 'Messages must be JSON objects such as {"type": "audio", ...}.'))
            return
        kind = data.get("type")
        if kind == "audio":
            try:
                samples, rate = decode_audio(data)
            except BadMessage as exc:
                self._reject(exc)
                return
            self.audio_chunks_in += 1
            self.audio_seconds_in += len(samples) / rate
            if len(samples):
                self._on_inbound_pcm(samples, rate)
        elif kind in CLIENT_MESSAGES:
            self.on_client_message(data)
        else:
            expected = ", ".join(CLIENT_MESSAGES)
            self._reject(BadMessage("unknown_message", f"Unknown message type {kind!r}; expected one of: {expected}."))

    def _reject(self, error: BadMessage) -> None:
        self.bad_messages_in += 1
        self.send_event({"type": "error", "code": error.code, "message": str(error)})

    # ------------------------------------------------------------------ figures and the end

    async def transport_stats(self) -> dict[str, Any]:
        """Messages and bytes each way, the audio chunks, and the late frames of the paced sender."""
        return {
            "messages_in": self.messages_in,
            "bytes_in": self.bytes_in,
            "audio_chunks_in": self.audio_chunks_in,
            "audio_seconds_in": round(self.audio_seconds_in, 2),
            "bad_messages_in": self.bad_messages_in,
            "messages_out": self.messages_out,
            "bytes_out": self.bytes_out,
            "audio_chunks_out": self.audio_chunks_out,
            "audio_frames_out": self.audio_frames_out,
            "late_outbound_frames": self.clock.late_frames,
        }

    async def _drain(self, timeout: float = 1.0) -> None:
        """Let the sender write what is queued (``ended``), then stop it."""
        self._finishing = True
        self._wake.set()
        if self._sender is not None and not self._sender.done():
            await asyncio.wait({self._sender}, timeout=timeout)

    async def _release(self) -> None:
        self._finishing = True
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
        if self._sender is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
        if not self.ws.closed:
            reason = (self.end_reason or "").encode()[:120]
            with contextlib.suppress(Exception):
                await self.ws.close(code=WSCloseCode.OK, message=reason)


def _check_origin(request: web.Request) -> None:
    """A page of another site must not open a call with the candidate's cookie (no ``Origin``: not a browser)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise ApiError(403, "forbidden_origin", "Cross-site requests are not allowed.")
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(request, origin):
        raise ApiError(403, "forbidden_origin", "This origin may not open a call here.")


async def stream_call(request: web.Request) -> web.StreamResponse:
    """Open a call for an interview over a WebSocket, and run it until either side ends it."""
    interview_id = request.match_info["session_id"]
    _check_origin(request)
    grant = await admission.authorize(request, interview_id)
    # No per-message deflate (browsers offer it): base64 PCM shrinks little, and zlib would run on every chunk.
    ws = web.WebSocketResponse(
        heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES, timeout=CLOSE_TIMEOUT_S, compress=False
    )
    if not ws.can_prepare(request).ok:
        raise ApiError(426, "websocket_required", "Open this URL as a WebSocket.", {"Upgrade": "websocket"})
    app = request.app
    plan = await admission.admit(app, grant)
    settings = app[appkeys.SETTINGS]
    call: WsCall | None = None
    try:
        await ws.prepare(request)
        call = WsCall(
            ws,
            interview_id=plan.interview_id,
            user_id=plan.user_id,
            client_address=client_ip(request),
            session_factory=admission.session_factory(app, plan),
            on_event=plan.on_event,
            on_closed=plan.on_closed,
            media_timeout_s=settings.media_timeout_s,
        )
        call.mark_connected()
        call.start_streaming()
        await admission.register(app, call)
        log.info("call %s interview %s: websocket open", call.id, call.interview_id)
        call.start_watchdog()
        if not call.ended.is_set() and call.end_reason is None:
            await call.session.start()
        await call.receive()
    except ConnectionResetError:
        # The client went away during the upgrade: there is nobody to answer.
        log.info("interview %s: the websocket connection was reset while opening", plan.interview_id)
    finally:
        await admission.end_call(plan, call, "hangup")
    return ws


def add_routes(app: web.Application) -> None:
    """Register the stream route."""
    app.router.add_get(STREAM_PATH, stream_call)
