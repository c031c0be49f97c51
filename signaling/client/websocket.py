"""The loopback client over the WebSocket stream (``WS /api/interview/stream/{id}``).

The same turn logic as the WebRTC client (``BaseLoopbackCall``): a microphone that sends 20 ms of 16 kHz PCM
every 20 ms in real time (silence when the candidate says nothing), and a recorder that takes the agent's
audio messages as arriving 20 ms frames. The server sends no silence: a gap in the agent's ``pts`` is
silence, and the recording fills it in.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import numpy as np

from signaling.client.api import CallFailed, api_request
from signaling.client.base import BaseLoopbackCall
from signaling.client.recorder import AgentRecorder
from signaling.client.speech_queue import SpeechQueue
from signaling.pacing import PacingClock
from signaling.ws_stream import MAX_MESSAGE_BYTES
from voice_agent.audio import (
    OUT_FRAME_SAMPLES,
    OUT_SAMPLE_RATE,
    VAD_FRAME_SAMPLES,
    VAD_SAMPLE_RATE,
    PcmResampler,
)

log = logging.getLogger(__name__)


def stream_url(base_url: str, interview_id: str) -> str:
    """The WebSocket URL of an interview's stream (``ws://`` for ``http://``, ``wss://`` for ``https://``)."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"{parts.path}/api/interview/stream/{interview_id}", "", ""))


class WsMicrophone(SpeechQueue):
    """The candidate's microphone: queued speech as 20 ms frames of 16 kHz mono PCM, silence otherwise.

    ``WsLoopbackCall`` takes one frame from it every 20 ms; ``stop()`` unplugs it (no audio at all any more, as
    from a frozen tab).
    """

    def __init__(self) -> None:
        super().__init__(VAD_FRAME_SAMPLES)
        self.live = True
        self.frames_sent = 0

    def play(self, pcm48k: np.ndarray) -> asyncio.Future[float]:
        """Queue speech (48 kHz mono int16, sent at 16 kHz); see ``SpeechQueue.play``."""
        resampler = PcmResampler(VAD_SAMPLE_RATE)
        return super().play(np.concatenate((resampler.resample(pcm48k, OUT_SAMPLE_RATE), resampler.flush())))

    def stop(self) -> None:
        """Stop sending audio altogether."""
        self.live = False

    def next_frame(self) -> np.ndarray:
        """The next 20 ms to send (called on the paced clock, at the moment it is sent)."""
        self.frames_sent += 1
        return super().next_frame()


class WsAgentRecorder(AgentRecorder):
    """The agent's audio messages as 20 ms frames with their arrival times; gaps in ``pts`` are silence."""

    def __init__(self) -> None:
        super().__init__()
        self._to_48k = PcmResampler(OUT_SAMPLE_RATE)
        self._next_pts = 0
        self._last_arrival: float | None = None
        #: (gap, when) between consecutive messages that carried back-to-back audio (no silence between).
        self.stream_gaps: list[tuple[float, float]] = []
        self.messages = 0

    def on_audio(self, event: dict[str, Any], now: float) -> None:
        """One ``audio`` message from the server, arrived at ``now``."""
        try:
            raw = base64.b64decode(event.get("data", ""), validate=True)
        except ValueError:
            log.warning("an audio message that is not base64")
            return
        samples = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)
        rate = event.get("sample_rate", OUT_SAMPLE_RATE)
        if rate != OUT_SAMPLE_RATE:
            samples = self._to_48k.resample(samples, int(rate))
        self.messages += 1
        pts = event.get("pts")
        if isinstance(pts, int) and rate == OUT_SAMPLE_RATE:
            gap = pts - self._next_pts
            if gap > 0:
                self.chunks.append(np.zeros(gap, np.int16))  # the silence the server did not send
            elif gap == 0 and self._last_arrival is not None:
                self.stream_gaps.append((now - self._last_arrival, self._last_arrival))
            self._next_pts = pts + len(samples)
        for start in range(0, len(samples), OUT_FRAME_SAMPLES):
            self.add_samples(samples[start : start + OUT_FRAME_SAMPLES], now)
        self._last_arrival = now

    def max_gap(self) -> tuple[float, float]:
        """The largest gap between two messages of uninterrupted audio (the server skips silence, so a pause
        between two turns is no gap), and when it began (seconds from the first frame)."""
        if not self.stream_gaps or not self.arrivals:
            return 0.0, 0.0
        gap, at = max(self.stream_gaps)
        return gap, at - self.arrivals[0]


class WsLoopbackCall(BaseLoopbackCall):
    """One call over the WebSocket stream, driven turn by turn like ``LoopbackCall``."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.mic = WsMicrophone()
        self.recorder: WsAgentRecorder = WsAgentRecorder()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.clock = PacingClock()
        self._outbox: collections.deque[str | bytes] = collections.deque()
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def connect(self, http: aiohttp.ClientSession, interview_id: str, timeout: float = 15.0) -> None:
        """Open the stream (``http`` carries the login cookie), start the microphone, and wait for the server to
        name the call."""
        self.interview_id = interview_id
        url = stream_url(self.base_url, interview_id)
        try:
            self.ws = await http.ws_connect(
                url, max_msg_size=MAX_MESSAGE_BYTES, timeout=aiohttp.ClientWSTimeout(ws_close=2.0)
            )
        except aiohttp.WSServerHandshakeError as exc:
            # The refusal's JSON body is not readable through a failed upgrade: ask once more without it.
            await api_request(http, "GET", f"{self.base_url}/api/interview/stream/{interview_id}")
            raise CallFailed(f"the stream was refused ({exc.status}: {exc.message})") from exc
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read(self.ws), name="ws-loopback-reader")
        self._writer = loop.create_task(self._write(self.ws), name="ws-loopback-writer")
        try:
            _, event = await self.wait_event(lambda e: e.get("type") in ("call", "ended"), 0, timeout)
        except CallFailed as exc:
            raise CallFailed("the call did not start in time") from exc
        self.call_id = event.get("call_id", "")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.monotonic()
            try:
                event = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if event.get("type") == "audio":
                self.recorder.on_audio(event, now)
            else:
                self.add_event(event)
        self.close_code = ws.close_code
        self.wake_waiters()

    async def _write(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """The one task that writes: every 20 ms, the control messages queued by ``send``, then 20 ms of the
        microphone."""
        try:
            while not ws.closed:
                await self.clock.wait()
                while self._outbox:
                    item = self._outbox.popleft()
                    await (ws.send_bytes(item) if isinstance(item, bytes) else ws.send_str(item))
                if self.mic.live:
                    data = base64.b64encode(self.mic.next_frame().astype("<i2", copy=False).tobytes()).decode()
                    await ws.send_str(f'{{"type":"audio","data":"{data}"}}')
        except (ConnectionError, RuntimeError):
            return

    def send(self, message: dict[str, Any]) -> None:
        """A control message to the server (``end``, ``mute``, ``unmute``); it leaves with the next frame."""
        self._outbox.append(json.dumps(message))

    def send_raw(self, message: str | bytes) -> None:
        """Any message, as is (a test's malformed input); ``bytes`` go in a binary frame."""
        self._outbox.append(message)

    async def close(self) -> None:
        """Stop the microphone, close the socket, and end the reading task."""
        self.mic.stop()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=2.0)
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
