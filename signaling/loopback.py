"""The bundled loopback client: calls the server over real WebRTC, speaks answers, records the agent.

Used by ``mock-interviewer call``, by the tests and by the benchmarks. It plays the candidate: waits for the
interviewer to finish a turn, speaks the next answer into its microphone track (eSpeak NG, or a recording),
and measures the response latency as a candidate hears it: from the last voiced sample it sent to the first
non-silent sample of the agent it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import wave
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription

from signaling.aiortc_patches import restrict_host_addresses, rtc_configuration, use_speech_jitter_buffer
from signaling.tracks import PacedAudioTrack, consume_audio
from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, Framer, PcmResampler, rms_dbfs
from voice_agent.providers.espeak import EspeakEngine
from web.settings import is_loopback_host

log = logging.getLogger(__name__)

#: A frame louder than this counts as voice (Opus-coded digital silence decodes far below it).
VOICE_DBFS = -50.0
#: A frame whose loudest sample is above this (about -78 dBFS) is not digital silence.
AUDIBLE_LEVEL = 4
CANDIDATE_VOICE = "en-us"


class CallFailed(RuntimeError):
    """The call could not be set up or did not go as a call should."""


#: Refusals that mean "the server is full right now": the call may be tried again after ``Retry-After``.
TRY_AGAIN_CODES = frozenset({"busy", "media_ports_exhausted", "too_many_pending_calls", "draining"})


class ServerBusy(CallFailed):
    """The server refused the call for the moment; ``retry_after`` is how long it asked to wait (seconds)."""

    def __init__(self, message: str, code: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


DEFAULT_INTERVIEW = {
    "role": "Software Engineer",
    "interview_type": "mixed",
    "duration_minutes": 20,
    "experience_level": "mid",
    "candidate_name": "Loopback Candidate",
}


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` given in seconds (the form this server sends), or None."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def new_http_session() -> aiohttp.ClientSession:
    """An HTTP client that keeps the login cookie, also for a server addressed by IP (127.0.0.1)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _api(http: aiohttp.ClientSession, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    async with http.request(method, url, json=body) as response:
        data = await response.json(content_type=None)
        if response.status >= 400:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            message = f"{method} {urlsplit(url).path} refused ({response.status}): {error.get('message', data)}"
            code = error.get("code", "")
            if code in TRY_AGAIN_CODES:
                retry_after = _seconds(response.headers.get("Retry-After"))
                wait = f" (the server asks to wait {retry_after:g} s)" if retry_after is not None else ""
                raise ServerBusy(f"{message} [{code}]: try again in a moment{wait}", code, retry_after)
            raise CallFailed(message)
        return data


async def sign_in(
    http: aiohttp.ClientSession,
    base_url: str,
    email: str | None = None,
    password: str | None = None,
    interview: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Log in with ``email``/``password``, or sign up a fresh candidate; returns the profile."""
    base_url = base_url.rstrip("/")
    if email is not None:
        if password is None:
            raise CallFailed("--password is needed with --email")
        data = await _api(http, "POST", f"{base_url}/api/auth/login", {"email": email, "password": password})
        return data["user"]
    details = {**DEFAULT_INTERVIEW, **(interview or {})}
    body = {
        "email": f"candidate-{secrets.token_hex(6)}@loopback.test",
        "password": secrets.token_urlsafe(16),
        "full_name": details["candidate_name"] or "Loopback Candidate",
        "target_role": details["role"],
        "experience_level": details["experience_level"],
    }
    data = await _api(http, "POST", f"{base_url}/api/auth/signup", body)
    return data["user"]


async def create_interview(http: aiohttp.ClientSession, base_url: str, interview: dict[str, Any] | None = None) -> str:
    """A new interview for the logged-in user (spends one credit); returns its id."""
    details = {**DEFAULT_INTERVIEW, **(interview or {})}
    body = {k: details[k] for k in ("role", "interview_type", "duration_minutes")}
    data = await _api(http, "POST", f"{base_url.rstrip('/')}/api/interviews/create", body)
    return data["interview"]["id"]


def to_48k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Any mono int16/float32 PCM as 48 kHz mono int16."""
    resampler = PcmResampler(OUT_SAMPLE_RATE)
    out = resampler.resample(samples, rate)
    return np.concatenate((out, resampler.flush()))


def speak(text: str, voice: str = CANDIDATE_VOICE, rate_wpm: int = 150) -> np.ndarray:
    """The candidate's voice: ``text`` spoken by eSpeak NG, as 48 kHz mono int16."""
    engine = EspeakEngine.shared()
    return to_48k(engine.synthesize(text, voice=voice, rate_wpm=rate_wpm), engine.sample_rate)


def read_audio_file(path: str | Path) -> np.ndarray:
    """A recording (any format PyAV reads) as 48 kHz mono int16."""
    resampler = PcmResampler(OUT_SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts.append(resampler.resample_frame(frame))
    parts.append(resampler.flush())
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = OUT_SAMPLE_RATE) -> None:
    """16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


class SpeechQueue:
    """Queued speech handed out a frame at a time, and when its voice left (a microphone of either transport)."""

    def __init__(self, frame_samples: int) -> None:
        self.frame_samples = frame_samples
        self._frames: deque[np.ndarray] = deque()
        self._done: asyncio.Future[float] | None = None
        self._last_voiced: float | None = None
        #: When the first voiced frame of the current speech left.
        self.first_voiced: float | None = None

    def play(self, pcm: np.ndarray) -> asyncio.Future[float]:
        """Queue speech (at the frames' rate); the future resolves, once the last frame is sent, to the moment the
        last voiced sample left."""
        framer = Framer(self.frame_samples)
        frames = framer.push(pcm)
        tail = framer.flush()
        self._frames.extend([*frames, tail] if tail is not None else frames)
        self._done = asyncio.get_running_loop().create_future()
        self._last_voiced = None
        self.first_voiced = None
        return self._done

    def stop_speaking(self) -> None:
        """Drop what is still queued."""
        self._frames.clear()

    def next_frame(self) -> np.ndarray:
        """The next frame to send (called at the moment it is sent): queued speech, or silence."""
        if not self._frames:
            return np.zeros(self.frame_samples, np.int16)
        frame = self._frames.popleft()
        now = time.monotonic()
        if rms_dbfs(frame) > VOICE_DBFS:
            self._last_voiced = now
            if self.first_voiced is None:
                self.first_voiced = now
        if not self._frames and self._done is not None and not self._done.done():
            self._done.set_result(self._last_voiced or now)
        return frame


class MicrophoneTrack(PacedAudioTrack):
    """The candidate's microphone over WebRTC: plays queued speech (48 kHz) on the paced clock, silence otherwise."""

    def __init__(self) -> None:
        self.speech = SpeechQueue(OUT_FRAME_SAMPLES)
        super().__init__(self.speech.next_frame)

    def play(self, pcm48k: np.ndarray) -> asyncio.Future[float]:
        """Queue speech; see ``SpeechQueue.play``."""
        return self.speech.play(pcm48k)

    def stop_speaking(self) -> None:
        """Drop what is still queued."""
        self.speech.stop_speaking()

    @property
    def first_voiced(self) -> float | None:
        """When the first voiced frame of the current speech left."""
        return self.speech.first_voiced


class AgentRecorder:
    """Records the agent's audio (48 kHz mono) and notes when its voice is first heard after a mark."""

    def __init__(self) -> None:
        self._resampler = PcmResampler(OUT_SAMPLE_RATE)
        self.chunks: list[np.ndarray] = []
        self.frames = 0
        self._armed_after: float | None = None
        self.first_voice: float | None = None
        self._first_voice_event = asyncio.Event()
        self.last_voice: float | None = None
        self.arrivals: list[float] = []
        #: Arrival times of the frames that carried voice.
        self.voiced_arrivals: list[float] = []
        #: Arrival times of the frames that were not digital silence (the quietest sound of a voice included).
        self.audible_arrivals: list[float] = []

    def on_frame(self, frame: av.AudioFrame) -> None:
        """A frame of the agent's track has arrived."""
        self.add_samples(self._resampler.resample_frame(frame), time.monotonic())

    def add_samples(self, samples: np.ndarray, now: float) -> None:
        """One frame of the agent's audio (48 kHz mono int16) that arrived at ``now``."""
        self.chunks.append(samples)
        self.frames += 1
        self.arrivals.append(now)
        if samples.size and int(np.abs(samples).max()) > AUDIBLE_LEVEL:
            self.audible_arrivals.append(now)
        if rms_dbfs(samples) > VOICE_DBFS:
            self.last_voice = now
            self.voiced_arrivals.append(now)
            if self._armed_after is not None and self.first_voice is None and now >= self._armed_after:
                self.first_voice = now
                self._first_voice_event.set()

    def audible_until(self, since: float, silent_frames: int = 10) -> float:
        """How long the agent's voice went on arriving after ``since``: to the last frame that was not digital
        silence before the first ``silent_frames`` (200 ms) of silence in a row (so a later reply, whose quiet
        onset comes after such a pause, does not count). 0 when it was already silent."""
        audible = set(self.audible_arrivals)
        last, silent = since, 0
        for t in self.arrivals:
            if t < since:
                continue
            if t in audible:
                last, silent = t, 0
            else:
                silent += 1
                if silent >= silent_frames:
                    break
        return last - since

    def arm(self, after: float) -> None:
        """Watch for the first voiced frame arriving after ``after``."""
        self._armed_after = after
        self.first_voice = None
        self._first_voice_event.clear()

    async def wait_voice(self, timeout: float) -> float:
        await asyncio.wait_for(self._first_voice_event.wait(), timeout)
        assert self.first_voice is not None
        return self.first_voice

    def audio(self) -> np.ndarray:
        """Everything received, silence included, as one array."""
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)

    def max_gap(self) -> tuple[float, float]:
        """The largest gap between two consecutive frames (seconds), and when it began (seconds from the first
        frame)."""
        arrivals = np.asarray(self.arrivals)
        if len(arrivals) < 2:
            return 0.0, 0.0
        gaps = np.diff(arrivals)
        worst = int(np.argmax(gaps))
        return float(gaps[worst]), float(arrivals[worst] - arrivals[0])


@dataclass
class TurnReport:
    """One exchange: what the client said, what the server heard, what the agent answered, how fast."""

    said: str
    heard: str
    reply: str
    client_response_ms: float | None
    server: dict[str, Any] = field(default_factory=dict)
    interrupted_agent: bool = False
    #: For an answer spoken over the agent: from the candidate's first voiced frame to the agent's last.
    agent_stop_ms: float | None = None
    #: For an answer spoken over the agent: from the server's barge-in (its VAD confirmed the candidate's speech
    #: and it said ``listening``) to the last frame of the agent's voice that arrived (the last that was not
    #: digital silence; 0 when the agent was already between words).
    barge_in_stop_ms: float | None = None


@dataclass
class CallReport:
    """The whole call as the loopback client saw it."""

    user_email: str
    interview_id: str
    call_id: str
    greeting: str
    turns: list[TurnReport]
    ended_reason: str | None
    agent_audio_seconds: float
    #: Largest gap between two consecutive frames of the agent's track at the client (silence included).
    inbound_max_gap_ms: float
    #: When that gap happened, in seconds from the first frame.
    inbound_max_gap_at_s: float
    inbound_frames: int
    events: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("events")
        return data


@dataclass
class Answer:
    """Something the candidate says: its text (for the report) and its audio."""

    text: str
    audio: np.ndarray = field(repr=False)
    #: Start speaking this long after the agent starts its turn, instead of after it finishes (barge-in).
    barge_in_after_s: float | None = None

    @classmethod
    def spoken(cls, text: str, barge_in_after_s: float | None = None) -> Answer:
        return cls(text, speak(text), barge_in_after_s)

    @classmethod
    def recording(cls, path: str | Path) -> Answer:
        return cls(f"<{Path(path).name}>", read_audio_file(path))


class BaseLoopbackCall:
    """One call to the server driven turn by turn, whatever carries it: the turn logic over the events, a
    microphone (``mic``) and a recorder of the agent's voice (``recorder``).

    A transport provides ``connect``, ``send`` and ``close``, sets ``mic`` and ``recorder``, and hands every
    event it receives to ``_add_event``.
    """

    mic: Any
    recorder: AgentRecorder

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.call_id = ""
        self.interview_id = ""

    async def connect(self, http: aiohttp.ClientSession, interview_id: str, timeout: float = 15.0) -> None:
        """Open the call (``http`` carries the login cookie)."""
        raise NotImplementedError

    def send(self, message: dict[str, Any]) -> None:
        """A control message to the server (``end``, ``mute``, ``unmute``)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release the connection and its tasks."""
        raise NotImplementedError

    def _add_event(self, event: dict[str, Any]) -> None:
        event["_t"] = time.monotonic()
        self.events.append(event)
        self._changed.set()

    async def wait_event(self, predicate: Any, start: int = 0, timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
        """The first event from index ``start`` on that satisfies ``predicate`` (index and event)."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.events):
                if predicate(self.events[index]):
                    return index, self.events[index]
                index += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CallFailed(f"timed out waiting for an event (last: {self.events[-3:]})")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def ended_reason(self) -> str | None:
        return next((e.get("reason") for e in self.events if e.get("type") == "ended"), None)

    async def wait_agent_turn(self, start: int, timeout: float = 60.0) -> tuple[int, str]:
        """Wait for the agent's next complete line after event ``start``; returns (index after it, text)."""
        index, event = await self.wait_event(_assistant_final, start, timeout)
        await self.wait_event(_listening_or_ended, index, timeout)
        return index + 1, event["text"]

    async def speak_answer(self, answer: Answer, start: int, timeout: float = 60.0) -> tuple[TurnReport, int]:
        """Say one answer, then wait for the agent's reply to it."""
        if answer.barge_in_after_s is not None:
            await self.wait_event(_speaking, start, timeout)
            await asyncio.sleep(answer.barge_in_after_s)
        last_voiced = await asyncio.wait_for(self.mic.play(answer.audio), timeout)
        self.recorder.arm(after=last_voiced)
        user_index, _ = await self.wait_event(_user_final, start, timeout)
        heard_until, reply = await self.wait_agent_turn(user_index, timeout)
        heard = " ".join(e["text"] for e in self.events[start:heard_until] if _user_final(e))
        server = next((e for e in self.events[user_index:heard_until] if e.get("type") == "metrics"), {})
        interrupted = any(_assistant_final(e) for e in self.events[start:user_index])
        response_ms = None
        if self.recorder.first_voice is not None:
            response_ms = round((self.recorder.first_voice - last_voiced) * 1000, 1)
        stop_ms = barge_in_ms = None
        if answer.barge_in_after_s is not None and self.mic.first_voiced is not None:
            spoke = self.mic.first_voiced
            until = self.recorder.first_voice or time.monotonic()
            overlap = [t for t in self.recorder.voiced_arrivals if spoke <= t < until]
            stop_ms = round(((overlap[-1] if overlap else spoke) - spoke) * 1000, 1)
            confirmed = next(
                (e["_t"] for e in self.events[start:user_index] if _listening_or_ended(e) and e["_t"] >= spoke), None
            )
            if confirmed is not None:
                barge_in_ms = round(self.recorder.audible_until(confirmed) * 1000, 1)
        report = TurnReport(
            said=answer.text,
            heard=heard,
            reply=reply,
            client_response_ms=response_ms,
            server={k: v for k, v in server.items() if k not in ("type", "_t")},
            interrupted_agent=interrupted,
            agent_stop_ms=stop_ms,
            barge_in_stop_ms=barge_in_ms,
        )
        return report, heard_until

    async def hang_up(self, timeout: float = 5.0) -> None:
        """Tell the server the candidate is done, wait for ``ended``, and close the connection."""
        if self.ended_reason() is None:
            self.send({"type": "end"})
            with contextlib.suppress(CallFailed):
                await self.wait_event(lambda e: e.get("type") == "ended", 0, timeout)
        await self.close()


class LoopbackCall(BaseLoopbackCall):
    """One WebRTC call to the server, driven turn by turn."""

    def __init__(self, base_url: str, *, media_addresses: list[str] | None = None) -> None:
        super().__init__(base_url)
        host = urlsplit(self.base_url).hostname or "127.0.0.1"
        if media_addresses is None and is_loopback_host(host):
            media_addresses = ["127.0.0.1"]
        restrict_host_addresses(media_addresses)
        # The client records what arrives as it arrives (no 80 ms playout buffer between the network and the
        # figures it measures; a browser adds its own playout delay).
        use_speech_jitter_buffer(True)
        self.pc = RTCPeerConnection(rtc_configuration([]))
        self.mic = MicrophoneTrack()
        self.recorder = AgentRecorder()
        self._channel: Any = None
        self._consumer: asyncio.Task[None] | None = None

    async def connect(self, http: aiohttp.ClientSession, interview_id: str, timeout: float = 15.0) -> None:
        """Offer, answer, and wait until the media and the events channel are up (``http`` carries the
        login cookie)."""
        self.interview_id = interview_id
        channel = self.pc.createDataChannel("events")
        self._channel = channel
        opened = asyncio.Event()
        channel.on("open", opened.set)
        channel.on("message", self._on_message)

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._consumer = asyncio.get_running_loop().create_task(consume_audio(track, self.recorder.on_frame))

        self.pc.addTrack(self.mic)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        body: dict[str, Any] = {"sdp": self.pc.localDescription.sdp, "type": self.pc.localDescription.type}
        data = await _api(http, "POST", f"{self.base_url}/api/interviews/{interview_id}/rtc", body)
        self.call_id = data.get("call_id", "")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type=data["type"]))
        try:
            await asyncio.wait_for(opened.wait(), timeout)
        except TimeoutError as exc:
            raise CallFailed("the call did not connect in time") from exc

    def _on_message(self, message: Any) -> None:
        try:
            event = json.loads(message)
        except (TypeError, ValueError):
            return
        if isinstance(event, dict):
            self._add_event(event)

    def send(self, message: dict[str, Any]) -> None:
        """A control message to the server (``end``, ``mute``, ``unmute``)."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(json.dumps(message))

    def send_raw(self, message: str | bytes) -> None:
        """Any message over the events channel, as is (a test's malformed input)."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(message)

    async def close(self) -> None:
        """Release the peer connection and the receiving task."""
        self.mic.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._consumer


def _assistant_final(e: dict[str, Any]) -> bool:
    return e.get("type") == "transcript" and e.get("role") == "assistant" and bool(e.get("final"))


def _user_final(e: dict[str, Any]) -> bool:
    return e.get("type") == "transcript" and e.get("role") == "user" and bool(e.get("final"))


def _listening_or_ended(e: dict[str, Any]) -> bool:
    return (e.get("type") == "state" and e.get("state") in ("listening", "ended")) or e.get("type") == "ended"


def _speaking(e: dict[str, Any]) -> bool:
    return e.get("type") == "state" and e.get("state") == "speaking"


TRANSPORTS = ("webrtc", "ws")


def new_loopback_call(base_url: str, transport: str = "webrtc") -> BaseLoopbackCall:
    """A loopback call over ``transport``: ``webrtc`` or ``ws``."""
    if transport == "webrtc":
        return LoopbackCall(base_url)
    if transport == "ws":
        from signaling.ws_loopback import WsLoopbackCall

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

    ``transport`` is ``webrtc`` (``LoopbackCall``) or ``ws`` (``WsLoopbackCall``, the WebSocket stream)."""
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
    greeting = next((e["text"] for e in call.events if _assistant_final(e)), "")
    max_gap_s, max_gap_at_s = call.recorder.max_gap()
    return CallReport(
        user_email=user["email"],
        interview_id=interview_id,
        call_id=call.call_id,
        greeting=greeting,
        turns=turns,
        ended_reason=call.ended_reason(),
        agent_audio_seconds=round(len(audio) / OUT_SAMPLE_RATE, 2),
        inbound_max_gap_ms=round(max_gap_s * 1000, 1),
        inbound_max_gap_at_s=round(max_gap_at_s, 2),
        inbound_frames=len(call.recorder.arrivals),
        events=call.events,
    )
