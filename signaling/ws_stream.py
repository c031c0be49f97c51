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

What one client may cost is bounded (``StreamLimits``, from the ``WS_*`` settings):

- **Audio is paced.** The audio accepted may run ahead of real time (since the call opened) by at most
  ``audio_allowance_s`` (2 s); an audio message beyond it is dropped, not heard, with an ``audio_too_fast``
  error, and the call goes on. A client that sends in real time is never refused.
- **Bad messages.** A burst of ``bad_message_burst`` (20) malformed messages, then ``bad_messages_per_s`` (1)
  a second: beyond that the server stops reading and ends the call with ``too_many_bad_messages``.
- **Error events** are rate limited per code: a burst of ``error_burst`` (5), then ``errors_per_s`` (1) a
  second; the others are not sent (``errors_suppressed`` in the figures).
- **A client that does not read.** Events wait in a queue while the socket cannot take them; once it holds
  ``outbox_messages`` (256) messages or ``outbox_bytes`` (1 MiB), the call ends with ``client_too_slow`` and a
  connection that still cannot be written is dropped.

Both endings close the socket with code 1008 (policy violation), the reason as the close message.

Server → client (text frames, JSON objects):

- ``{"type": "call", "call_id": "..."}`` first, then the data channel's events: ``state``, ``transcript``,
  ``metrics``, ``error``, ``ended``.
- ``{"type": "audio", "data": "<base64>", "sample_rate": 48000, "pts": N}``: the agent's voice, 16-bit signed
  little-endian mono PCM at 48 kHz, 20 to 40 ms per message. ``pts`` is the position of the chunk's first
  sample on the call's 48 kHz clock. Silence is not sent: a gap in ``pts`` (and in time) is silence, and
  a client plays each chunk at its ``pts`` (or simply as it arrives, treating gaps as silence).

After ``ended`` the server closes the socket (close code 1000, or 1008 for the two endings above; the reason as
the close message). A client that closes the socket hangs up.
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiohttp import WSCloseCode, WSMsgType, web

from signaling.live_call import LiveCall
from signaling.messages import INVALID_JSON, parse_client_message
from signaling.pacing import PacingClock
from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, VAD_SAMPLE_RATE
from voice_agent.turn_options import TurnOptions

log = logging.getLogger(__name__)

#: The agent's 20 ms frames grouped into one audio message (40 ms: one frame of added latency).
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
#: End reasons that mean the client misbehaved: their close code is 1008 (policy violation), not 1000.
ABUSE_REASONS = frozenset({"too_many_bad_messages", "client_too_slow"})


@dataclass(frozen=True)
class StreamLimits:
    """What one WebSocket client may cost the server; the module docstring says what happens beyond each."""

    #: Events queued for a client that does not read them, at most (messages, and bytes of JSON).
    outbox_messages: int = 256
    outbox_bytes: int = 1024 * 1024
    #: Malformed messages: a burst of this many, then this many a second.
    bad_message_burst: int = 20
    bad_messages_per_s: float = 1.0
    #: Seconds of audio the client may send ahead of real time (at least ``MAX_CHUNK_SECONDS``).
    audio_allowance_s: float = 2.0
    #: Error events of one code: a burst of this many, then this many a second.
    error_burst: int = 5
    errors_per_s: float = 1.0


class TokenBucket:
    """A rate limit: holds up to ``capacity`` tokens, starts full, and refills at ``rate`` a second."""

    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def take(self, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if there are that many (``True``); otherwise take none (``False``)."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if amount > self._tokens + 1e-9:  # sums of float seconds drift by a few ulps
            return False
        self._tokens -= amount
        return True


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
    The request handler reads the socket with ``receive()``. ``limits`` bound what the client may cost;
    ``connection`` (the request's transport) is aborted at the end if it still cannot be written.
    """

    transport = "websocket"

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        frames_per_message: int | None = None,
        limits: StreamLimits | None = None,
        connection: asyncio.Transport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ws = ws
        if frames_per_message is None:
            frames_per_message = TurnOptions().ws_frames_per_message
        self.frames_per_message = max(1, frames_per_message)
        self.limits = limits = limits or StreamLimits()
        self.mark_connected()  # the socket is open: nothing more to connect
        self._connection = connection
        #: The paced sender's clock (``late_frames`` in ``transport_stats``).
        self.clock = PacingClock(on_late=self._on_late_frame)
        self._outbox: collections.deque[str] = collections.deque()
        self._outbox_bytes = 0
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._finishing = False
        self._stop_reading = False
        #: The sender is inside a write (which waits while the client does not read).
        self._writing = False
        self._audio_budget = TokenBucket(max(limits.audio_allowance_s, MAX_CHUNK_SECONDS), 1.0)
        self._bad_message_budget = TokenBucket(limits.bad_message_burst, limits.bad_messages_per_s)
        self._error_budgets: dict[str, TokenBucket] = {}
        self.messages_in = 0
        self.bytes_in = 0
        self.audio_chunks_in = 0
        self.audio_seconds_in = 0.0
        self.audio_chunks_dropped = 0
        self.audio_seconds_dropped = 0.0
        self.bad_messages_in = 0
        self.errors_suppressed = 0
        self.messages_out = 0
        self.bytes_out = 0
        self.audio_chunks_out = 0
        self.audio_frames_out = 0
        self.outbox_peak_messages = 0
        self.outbox_peak_bytes = 0

    # ------------------------------------------------------------------ sending

    def start_streaming(self) -> None:
        """Start the paced sender (events and the agent's voice); the first message names the call."""
        self._deliver(json.dumps({"type": "call", "call_id": self.id}))
        self._sender = asyncio.get_running_loop().create_task(self._send_loop(), name=f"ws-sender-{self.id}")

    def _deliver(self, message: str) -> None:
        limits = self.limits
        if len(self._outbox) >= limits.outbox_messages or self._outbox_bytes + len(message) > limits.outbox_bytes:
            # The client does not read what it is sent (the sender waits on a full socket): stop queueing.
            self._end("client_too_slow")
            return
        self._outbox.append(message)
        self._outbox_bytes += len(message)
        self.outbox_peak_messages = max(self.outbox_peak_messages, len(self._outbox))
        self.outbox_peak_bytes = max(self.outbox_peak_bytes, self._outbox_bytes)
        self._wake.set()

    async def _write(self, message: str) -> None:
        self._writing = True
        try:
            await self.ws.send_str(message)
        finally:
            self._writing = False
        self.messages_out += 1
        self.bytes_out += len(message)

    async def _flush_outbox(self) -> None:
        while self._outbox:
            message = self._outbox.popleft()
            self._outbox_bytes -= len(message)
            await self._write(message)

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
            pts = clock.tick() * OUT_FRAME_SAMPLES
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

    async def run(self) -> None:
        """Watch the audio, start the session (the agent greets) and read the client's messages until the
        socket closes or the call closes it."""
        self.start_watchdog()
        if not self.ended.is_set() and self.end_reason is None:
            await self.session.start()
        await self.receive()

    async def receive(self) -> None:
        """Read the client's messages until the socket closes (or the call closes it)."""
        async for message in self.ws:
            if self._stop_reading:
                break
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
        data = parse_client_message(text)
        if data is None:
            self._reject(BadMessage("invalid_json", INVALID_JSON))
            return
        kind = data.get("type")
        if kind == "audio":
            try:
                samples, rate = decode_audio(data)
            except BadMessage as exc:
                self._reject(exc)
                return
            self._on_audio(samples, rate)
        elif kind in CLIENT_MESSAGES:
            self.on_client_message(data)
        else:
            expected = ", ".join(CLIENT_MESSAGES)
            self._reject(BadMessage("unknown_message", f"Unknown message type {kind!r}; expected one of: {expected}."))

    def _on_audio(self, samples: np.ndarray, rate: int) -> None:
        """Hear a chunk of the candidate's audio, unless it runs too far ahead of real time."""
        seconds = len(samples) / rate
        if not self._audio_budget.take(seconds):
            self.audio_chunks_dropped += 1
            self.audio_seconds_dropped += seconds
            allowance = self._audio_budget.capacity
            self._send_error(
                "audio_too_fast", f"Audio faster than real time (more than {allowance:g} s ahead) is dropped."
            )
            return
        self.audio_chunks_in += 1
        self.audio_seconds_in += seconds
        if len(samples):
            self._on_inbound_pcm(samples, rate)

    def _reject(self, error: BadMessage) -> None:
        self.bad_messages_in += 1
        if not self._bad_message_budget.take():
            log.info("call %s: too many bad messages (%d)", self.id, self.bad_messages_in)
            self._end("too_many_bad_messages")
            return
        self._send_error(error.code, str(error))

    def _send_error(self, code: str, message: str) -> None:
        """An ``error`` event, unless this code has been sent too often lately."""
        budget = self._error_budgets.get(code)
        if budget is None:
            budget = self._error_budgets[code] = TokenBucket(self.limits.error_burst, self.limits.errors_per_s)
        if budget.take():
            self.send_event({"type": "error", "code": code, "message": message})
        else:
            self.errors_suppressed += 1

    def _end(self, reason: str) -> None:
        """End the call for the client's behaviour, and read nothing more from it."""
        self._stop_reading = True
        if self.end_reason is None:
            self.end_reason = reason
            self.spawn_close(reason)

    # ------------------------------------------------------------------ figures and the end

    async def transport_stats(self) -> dict[str, Any]:
        """Messages and bytes each way, the audio chunks (heard and dropped), the late frames of the paced
        sender, and the queue of events waiting for the socket (now and at its longest)."""
        return {
            "messages_in": self.messages_in,
            "bytes_in": self.bytes_in,
            "audio_chunks_in": self.audio_chunks_in,
            "audio_seconds_in": round(self.audio_seconds_in, 2),
            "audio_chunks_dropped": self.audio_chunks_dropped,
            "audio_seconds_dropped": round(self.audio_seconds_dropped, 2),
            "bad_messages_in": self.bad_messages_in,
            "errors_suppressed": self.errors_suppressed,
            "messages_out": self.messages_out,
            "bytes_out": self.bytes_out,
            "audio_chunks_out": self.audio_chunks_out,
            "audio_frames_out": self.audio_frames_out,
            "late_outbound_frames": self.clock.late_frames,
            "outbox_messages": len(self._outbox),
            "outbox_bytes": self._outbox_bytes,
            "outbox_peak_messages": self.outbox_peak_messages,
            "outbox_peak_bytes": self.outbox_peak_bytes,
        }

    async def _drain(self, timeout: float = 1.0) -> None:
        """Let the sender write what is queued (``ended``), then stop it."""
        self._finishing = True
        self._wake.set()
        if self._sender is not None and not self._sender.done():
            await asyncio.wait({self._sender}, timeout=timeout)

    async def _release(self) -> None:
        self._finishing = True
        # Still inside a write after ``_drain``'s wait: the client reads nothing, not even a close frame.
        stuck = self._writing
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
        if self._sender is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
        if not stuck and not self.ws.closed:
            await self._close_socket()
        connection = self._connection
        if connection is not None and (stuck or connection.get_write_buffer_size()):
            # A transport that holds data the client does not read would wait for it forever, even once closed.
            log.info("call %s: dropping a websocket that does not read", self.id)
            connection.abort()

    async def _close_socket(self) -> None:
        """The closing handshake, with the end reason (1008 for a client's misbehaviour, 1000 otherwise)."""
        reason = self.end_reason or ""
        code = WSCloseCode.POLICY_VIOLATION if reason in ABUSE_REASONS else WSCloseCode.OK
        try:
            async with asyncio.timeout(2 * CLOSE_TIMEOUT_S):
                await self.ws.close(code=code, message=reason.encode()[:120])
        except asyncio.CancelledError:
            # aiohttp hands a cancelled writer's wait on to the next write; only a real cancel goes on.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        except Exception as exc:
            log.info("call %s: websocket close failed (%s)", self.id, exc.__class__.__name__)
