"""A light WebRTC client for the load benchmarks (``concurrency.py``, ``peer.py``): it costs as little as a
candidate can.

- It sends PRE-ENCODED Opus: each answer is spoken by eSpeak NG and encoded once with PyAV's Opus encoder into
  20 ms packets; ``PacketTrack.recv()`` returns ``av.Packet`` objects, which aiortc's ``RTCRtpSender`` packs
  without encoding (``encoder.pack``), paced on a 20 ms clock, with a pre-encoded silent packet between answers.
- It does not decode what it receives: ``ArrivalLog`` hooks the receiver of its own peer connection, notes
  each RTP packet's arrival time and payload size, and hands nothing to aiortc's decoder thread. An Opus
  packet of silence is 3 to 32 bytes (by encoder); a packet over ``VOICED_BYTES`` carries voice (or a tone).
- It speaks answers in a loop: wait until the agent listens, say the next answer, wait for the agent's reply
  (or a few seconds), repeat; it notes the server's ``metrics`` events and the voice-to-voice latency as the
  client sees it (last voiced packet sent to first voiced packet received).

Not a product module: nothing outside ``benchmarks/`` imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import queue
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from signaling.aiortc_patches import rtc_configuration
from signaling.pacing import PacingClock

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
#: An Opus payload longer than this carries voice: silence codes to 3 bytes (aiortc's 96 kbit/s stereo encoder,
#: PyAV's defaults) or 32 bytes (our server's 32 kbit/s mono voip encoder); speech at 32 kbit/s averages 80.
VOICED_BYTES = 40
#: Two consecutive packets further apart than this: the second one is late.
LATE_S = 0.040
#: Behind schedule by more than this, the sending clock is reset instead of bursting to catch up.
MAX_LAG_S = 0.2
#: Without a ``state`` event channel, the agent has finished its turn after this long without voice.
QUIET_S = 1.5


def encode_opus(pcm48k: np.ndarray, pad_s: float = 0.1) -> list[bytes]:
    """48 kHz mono int16 PCM as 20 ms Opus payloads (a fresh encoder; ``pad_s`` of silence either side, so
    that splicing separately encoded answers happens in silence)."""
    pad = np.zeros(int(SAMPLE_RATE * pad_s), np.int16)
    samples = np.concatenate((pad, pcm48k.astype(np.int16), pad))
    samples = np.concatenate((samples, np.zeros(-len(samples) % FRAME_SAMPLES, np.int16)))
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.time_base = TIME_BASE
    codec.bit_rate = 32000
    payloads: list[bytes] = []
    for offset in range(0, len(samples), FRAME_SAMPLES):
        frame = av.AudioFrame.from_ndarray(
            samples[offset : offset + FRAME_SAMPLES].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = offset
        payloads.extend(bytes(p) for p in codec.encode(frame))
    payloads.extend(bytes(p) for p in codec.encode(None))
    return payloads


def silent_packet() -> bytes:
    """One pre-encoded 20 ms Opus packet of silence."""
    return encode_opus(np.zeros(FRAME_SAMPLES * 10, np.int16), pad_s=0)[5]


@dataclass
class Utterance:
    """An answer: its words and its pre-encoded packets."""

    text: str
    packets: list[bytes] = field(repr=False)


def prepare_answers(texts: list[str]) -> list[Utterance]:
    """Each answer spoken by eSpeak NG (the loopback client's voice) and encoded once."""
    from signaling.client.audio import speak

    return [Utterance(text, encode_opus(speak(text))) for text in texts]


class PacketTrack(MediaStreamTrack):
    """An outbound audio track of pre-encoded Opus packets, one per 20 ms, silence between answers."""

    kind = "audio"

    def __init__(self, silence: bytes) -> None:
        super().__init__()
        self._silence = silence
        self._queue: deque[bytes] = deque()
        self._clock = PacingClock(FRAME_S, max_lag_s=MAX_LAG_S)
        self._done: asyncio.Future[float] | None = None
        self._last_voiced: float | None = None
        self.packets_sent = 0

    def play(self, packets: list[bytes]) -> asyncio.Future[float]:
        """Queue an answer; the future resolves, once its last packet is sent, to when its last voiced packet
        left."""
        self._queue.extend(packets)
        self._last_voiced = None
        self._done = asyncio.get_running_loop().create_future()
        return self._done

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._clock.wait() * FRAME_SAMPLES
        now = time.monotonic()
        payload = self._queue.popleft() if self._queue else self._silence
        if len(payload) > VOICED_BYTES:
            self._last_voiced = now
        if not self._queue and self._done is not None and not self._done.done():
            self._done.set_result(self._last_voiced or now)
        packet = av.Packet(payload)
        packet.pts = pts
        packet.time_base = TIME_BASE
        self.packets_sent += 1
        return packet


class _DiscardingQueue(queue.Queue):  # type: ignore[type-arg]
    """Stands in for a receiver's decoder queue: drops encoded frames, passes the stop sentinel."""

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(item, block, timeout)


class ArrivalLog:
    """Arrival times and payload sizes of the RTP packets of one inbound track, noted before the jitter
    buffer (so they show the sender's pacing and the network, not aiortc's playout)."""

    def __init__(self) -> None:
        self.times = array("d")
        self.sizes = array("H")
        self.last_voiced: float | None = None
        self._voice_after: float | None = None
        self.first_voice: float | None = None
        self._voice_event = asyncio.Event()

    def note(self, now: float, size: int) -> None:
        """A packet of ``size`` payload bytes arrived at ``now``."""
        self.times.append(now)
        self.sizes.append(min(size, 65535))
        if size > VOICED_BYTES:
            self.last_voiced = now
            if self._voice_after is not None and self.first_voice is None and now >= self._voice_after:
                self.first_voice = now
                self._voice_event.set()

    def arm(self, after: float) -> None:
        """Watch for the first voiced packet arriving after ``after``."""
        self._voice_after = after
        self.first_voice = None
        self._voice_event.clear()

    async def wait_voice(self, timeout: float) -> float | None:
        """The arrival of the first voiced packet after the mark (None if none came in time)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._voice_event.wait(), timeout)
        return self.first_voice

    async def wait_quiet(self, quiet_s: float, stop: asyncio.Event) -> None:
        """Return once no voiced packet has arrived for ``quiet_s`` (or ``stop`` is set)."""
        while not stop.is_set():
            remaining = (self.last_voiced or 0.0) + quiet_s - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), remaining)

    def window(self, start: float, end: float) -> dict[str, Any]:
        """Late packets between ``start`` and ``end``: a packet is late when it arrives over ``LATE_S`` after
        the one before it; counted over every packet, and over voiced packets only (the agent speaking)."""
        times = np.frombuffer(self.times, dtype=np.float64)
        sizes = np.frombuffer(self.sizes, dtype=np.uint16)
        inside = (times >= start) & (times <= end)
        times, sizes = times[inside], sizes[inside]
        if len(times) < 2:
            return {"packets": len(times), "voiced": 0, "late": 0, "late_voiced": 0, "max_gap_ms": None}
        gaps = np.diff(times)
        voiced = sizes[1:] > VOICED_BYTES
        late = gaps > LATE_S
        return {
            "packets": len(times),
            "voiced": int(voiced.sum()),
            "late": int(late.sum()),
            "late_voiced": int((late & voiced).sum()),
            "max_gap_ms": round(float(gaps.max()) * 1000, 1),
        }


def _hook_receiver(receiver: Any, log: ArrivalLog, decode: bool) -> bool:
    """Note every RTP packet of ``receiver`` in ``log``; unless ``decode``, keep its frames from the decoder
    thread. Returns whether decoding was switched off (False when aiortc's internals changed shape)."""
    original = receiver._handle_rtp_packet

    async def handle(packet: Any, arrival_time_ms: int) -> None:
        log.note(time.monotonic(), len(packet.payload))
        await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle
    if decode or not isinstance(getattr(receiver, "_RTCRtpReceiver__decoder_queue", None), queue.Queue):
        return False
    receiver._RTCRtpReceiver__decoder_queue = _DiscardingQueue()
    return True


class BenchCall:
    """One call: a peer connection with a ``PacketTrack`` microphone, an ``ArrivalLog`` on the agent's track,
    and (with ``events``) the ``events`` data channel whose ``state`` events drive the turn taking (without it,
    the agent's turn is over after ``QUIET_S`` without voice)."""

    def __init__(
        self, silence: bytes, *, events: bool = True, channel: bool | None = None, decode: bool = False
    ) -> None:
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.mic = PacketTrack(silence)
        self.arrivals = ArrivalLog()
        self.with_events = events
        #: Open a data channel (``events``) even when no events are expected, as a real client of the server would.
        self.with_channel = events if channel is None else channel
        self.decode = decode
        self.events: list[dict[str, Any]] = []
        self.agent_state = ""
        self._state_changed = asyncio.Event()
        self.call_id = ""
        self.dropped: str | None = None
        self.metrics: list[tuple[float, dict[str, Any]]] = []
        #: (time the reply's voice arrived, client voice-to-voice ms)
        self.voice_to_voice: list[tuple[float, float]] = []
        self.turns = 0
        self.closing = False
        self._channel: Any = None
        self._consumer: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def connect(
        self, post_offer: Callable[[dict[str, str]], Awaitable[dict[str, Any]]], timeout: float = 20.0
    ) -> None:
        """Offer, answer (``post_offer`` carries the offer to the server and returns its answer), and wait until
        the media (and the events channel) are up."""
        opened = asyncio.Event()
        if self.with_channel:
            channel = self.pc.createDataChannel("events")
            self._channel = channel
            channel.on("open", opened.set)
            channel.on("message", self._on_message)
        else:
            opened.set()
        self.pc.addTrack(self.mic)
        receiver = self.pc.getTransceivers()[0].receiver
        skipped = _hook_receiver(receiver, self.arrivals, self.decode)

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            if not skipped and track.kind == "audio" and self._consumer is None:
                self._consumer = asyncio.get_running_loop().create_task(self._drain(track))

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            state = self.pc.connectionState
            if state == "connected":
                self._connected.set()
            elif state in ("failed", "closed") and not self.closing and self.dropped is None:
                self.dropped = f"connection_{state}"
                self._state_changed.set()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await post_offer({"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type})
        self.call_id = str(answer.get("call_id", "") or answer.get("pc_id", ""))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        await asyncio.wait_for(asyncio.gather(opened.wait(), self._connected.wait()), timeout)

    @staticmethod
    async def _drain(track: Any) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return

    def _on_message(self, message: Any) -> None:
        try:
            event = json.loads(message)
        except (TypeError, ValueError):
            return
        if not isinstance(event, dict):
            return
        now = time.monotonic()
        kind = event.get("type")
        if kind == "state":
            self.agent_state = str(event.get("state", ""))
        elif kind == "metrics":
            self.metrics.append((now, event))
        elif kind == "ended" and not self.closing and self.dropped is None:
            self.dropped = f"ended_{event.get('reason')}"
        self._state_changed.set()

    async def _wait_state(self, predicate: Callable[[str], bool], timeout: float, stop: asyncio.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(self.agent_state):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set() or self.dropped:
                return False
            self._state_changed.clear()
            waiters = [asyncio.ensure_future(self._state_changed.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        return True

    async def wait_listening(self, timeout: float) -> bool:
        """Wait until the agent listens (its greeting is over); False on timeout or a dropped call."""
        return await self._wait_state(lambda s: s == "listening", timeout, asyncio.Event())

    async def say(self, answer: Utterance, timeout: float = 60.0) -> float:
        """Speak one answer; returns when its last voiced packet left, and watches for the reply's voice."""
        last_voiced = await asyncio.wait_for(self.mic.play(answer.packets), timeout)
        self.arrivals.arm(after=last_voiced)
        return last_voiced

    async def converse(
        self, answers: list[Utterance], stop: asyncio.Event, *, replies: bool, pause_s: float = 2.0
    ) -> None:
        """Answer in a loop until ``stop``: wait for the agent to listen, speak, wait for its reply (with
        ``replies``; else ``pause_s``), and note the voice-to-voice latency of each reply."""
        index = 0
        while not stop.is_set() and self.dropped is None:
            if replies:
                if self.with_events:
                    await self._wait_state(lambda s: s in ("listening", "ended"), 120.0, stop)
                else:
                    await self.arrivals.wait_quiet(QUIET_S, stop)
                if stop.is_set() or self.dropped is not None:
                    return
            last_voiced = await self.say(answers[index % len(answers)])
            index += 1
            self.turns += 1
            if not replies:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause_s)
                continue
            heard = await self.arrivals.wait_voice(timeout=10.0)
            if heard is not None:
                self.voice_to_voice.append((heard, round((heard - last_voiced) * 1000, 1)))
            if self.with_events:
                # The reply is on its way: wait until the agent is no longer listening, then (loop) until it is.
                await self._wait_state(lambda s: s not in ("listening",), 5.0, stop)

    async def sender_stats(self) -> dict[str, int]:
        """Packets this client sent, and those the server reported lost (its RTCP receiver reports)."""
        stats = {"sent": self.mic.packets_sent, "remote_lost": 0}
        with contextlib.suppress(Exception):
            report = await self.pc.getStats()
            for item in report.values():
                if item.type == "remote-inbound-rtp":
                    stats["remote_lost"] = int(item.packetsLost or 0)
        return stats

    async def hang_up(self) -> None:
        """Close the connection (the server sees the candidate hang up)."""
        self.closing = True
        self.mic.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._consumer


def new_http() -> aiohttp.ClientSession:
    """An HTTP client that keeps a login cookie for a server addressed by IP."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body and return the JSON answer (RuntimeError on an HTTP error)."""
    async with http.post(url, json=body) as response:
        data = await response.json(content_type=None)
        if response.status >= 400:
            raise RuntimeError(f"POST {url} answered {response.status}: {data}")
        return data
