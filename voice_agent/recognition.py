"""Recognition: one candidate utterance on its way through speech-to-text.

An ``Utterance`` is opened when the VAD hears speech start. It owns the utterance's STT stream (audio is held
while the stream opens), the latest interim transcript and how fresh it is, the pause hint, and the final
transcript with its timeout. It decides nothing about the turn: it reports what the recogniser says through
``RecognitionHooks``, and the session (the turn decisions) answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from voice_agent.audio import FRAME_MS
from voice_agent.providers.base import SttStream, Transcript
from voice_agent.vad import SpeechEnded, SpeechStarted

log = logging.getLogger(__name__)

FRAME_S = FRAME_MS / 1000
#: Audio kept of an utterance for the end-of-turn model (it looks at the last 8 s).
RECENT_AUDIO_S = 8.0


class RecognitionHooks(Protocol):
    """What an ``Utterance`` reports to the turn decisions."""

    def on_interim(self, utterance: Utterance, text: str) -> None:
        """The interim transcript changed to ``text`` (non-empty)."""

    def on_final(self, utterance: Utterance, text: str, speech_final: bool) -> None:
        """The final transcript arrived; ``speech_final``: the STT itself saw the end of the speech."""

    def on_recognition_error(self, code: str, message: str) -> None:
        """Recognition failed for this utterance (``stt_failed``); the candidate's client is told."""


#: Opens an STT stream for one utterance.
StreamOpener = Callable[[], Coroutine[Any, Any, SttStream]]
#: Runs a coroutine as a task the session owns (cancelled when the call closes).
Spawner = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


@dataclass(frozen=True, slots=True)
class HeardText:
    """The transcript of a finished utterance; ``timed_out``: the final never came and this is the interim."""

    text: str
    timed_out: bool = False


class Utterance:
    """One candidate utterance, from the VAD's start to its final transcript."""

    def __init__(
        self,
        started: SpeechStarted,
        wall_start: datetime,
        *,
        open_stream: StreamOpener,
        hooks: RecognitionHooks,
        spawn: Spawner,
    ) -> None:
        self.started = started
        self.wall_start = wall_start
        self._open_stream = open_stream
        self._hooks = hooks
        self._stream: SttStream | None = None
        self._pending: list[tuple[bytes, bool]] = []
        self._final: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._paused = False
        #: The latest interim transcript ("" before the first).
        self.interim = ""
        #: Frames pushed so far, and how many had been when an interim last arrived (a repeated one counts too):
        #: freshness is counted in audio, which is what the recogniser keeps up with.
        self.frames = 0
        self.interim_frame = 0
        #: Speech lasted long enough to interrupt the agent.
        self.sustained = False
        #: Set when the speech ended; ``end_reason`` says what ended it (an ``EndReason`` value).
        self.ended: SpeechEnded | None = None
        self.end_reason = ""
        self._recent: deque[bytes] = deque(maxlen=round(RECENT_AUDIO_S / FRAME_S))
        #: How long after the agent's voice was last heard the utterance began (the turn decisions set it; an
        #: utterance that began over the agent's voice may be its echo).
        self.after_agent_s = float("inf")
        #: End of the last voiced frame heard so far.
        self.last_voiced_time = started.time
        self._speech_seconds = 0.0
        for frame in started.preroll:
            self.push(frame, True)
        self._reader = spawn(self._read_transcripts())

    # ------------------------------------------------------------------ audio in

    def push(self, frame: bytes, is_speech: bool, now: float | None = None) -> None:
        """A 20 ms frame of the utterance (held until the stream is open); a voiced one moves the last voiced
        time to ``now``."""
        if is_speech and now is not None:
            self.last_voiced_time = now
        self.frames += 1
        self._recent.append(frame)
        if self._stream is None:
            self._pending.append((frame, is_speech))
        else:
            self._stream.push(frame, is_speech)

    @property
    def paused(self) -> bool:
        """The candidate is in a pause inside this utterance."""
        return self._paused

    def pause(self, last_voiced_time: float, hint_stt: bool = True) -> None:
        """The candidate paused after ``last_voiced_time``; ``hint_stt``: tell the STT (it may decode what it
        has, so that the end of the turn only waits for the last segment)."""
        self._paused = True
        self.last_voiced_time = last_voiced_time
        if hint_stt and self._stream is not None:
            self._stream.pause()

    def resume(self) -> None:
        """Speech came back before the end."""
        self._paused = False

    def interim_is_fresh(self, silent_frames: int, freshness_s: float) -> bool:
        """There is an interim, and it arrived no more than ``freshness_s`` of audio before the speech stopped
        (``silent_frames`` ago): a streaming STT keeping up, so it covers what was said."""
        last_voiced = self.frames - silent_frames
        return bool(self.interim) and self.interim_frame >= last_voiced - round(freshness_s / FRAME_S)

    # ------------------------------------------------------------------ the end

    def recent_audio(self) -> np.ndarray:
        """The last ``RECENT_AUDIO_S`` of the utterance as float32 samples at 16 kHz."""
        return np.frombuffer(b"".join(self._recent), np.int16).astype(np.float32) / 32768.0

    def end(self, ended: SpeechEnded, reason: str) -> None:
        """The speech ended (``reason``: what decided it)."""
        self.ended = ended
        self.end_reason = reason
        self.last_voiced_time = ended.last_voiced_time
        self._speech_seconds = ended.speech_seconds

    @property
    def speech_seconds(self) -> float:
        """How long the candidate spoke: to the end of the speech, or (cut short when the call closed
        mid-sentence) to the last voiced frame."""
        if self.ended is None:
            return self.last_voiced_time - self.started.time + FRAME_S
        return self._speech_seconds

    async def transcript(self, timeout_s: float) -> HeardText:
        """Ask for the final transcript and wait for it at most ``timeout_s``; past that, what the interim
        says."""
        if self._stream is not None:
            await self._stream.finalize()
        try:
            return HeardText(await asyncio.wait_for(asyncio.shield(self._final), timeout_s))
        except TimeoutError:
            return HeardText(self.interim, timed_out=True)

    async def aclose(self) -> None:
        """Release the STT stream and stop reading it."""
        if self._stream is not None:
            with contextlib.suppress(Exception):
                await self._stream.aclose()
        if not self._reader.done():
            self._reader.cancel()

    # ------------------------------------------------------------------ the recogniser

    async def _read_transcripts(self) -> None:
        try:
            stream = await self._open_stream()
        except Exception as exc:
            log.warning("speech-to-text failed to open: %s", exc.__class__.__name__)
            self._hooks.on_recognition_error("stt_failed", "Speech recognition is unavailable right now.")
            self._settle("")
            return
        self._stream = stream
        for frame, is_speech in self._pending:
            stream.push(frame, is_speech)
        self._pending.clear()
        if self._paused:
            stream.pause()
        if self.ended is not None:
            await stream.finalize()
        try:
            async for result in stream:
                self._on_transcript(result)
                if result.is_final:
                    break
        except Exception as exc:
            log.warning("speech-to-text stream failed: %s", exc.__class__.__name__)
            self._hooks.on_recognition_error("stt_failed", "Speech recognition failed for part of the answer.")
        finally:
            self._settle(self.interim)

    def _on_transcript(self, result: Transcript) -> None:
        text = result.text.strip()
        if result.is_final:
            self._settle(text)
            self._hooks.on_final(self, text, result.speech_final)
            return
        if not text:
            return
        # A repeated interim still says the recogniser has caught up with the speech as of now.
        self.interim_frame = self.frames
        if text != self.interim:
            self.interim = text
            self._hooks.on_interim(self, text)

    def _settle(self, text: str) -> None:
        if not self._final.done():
            self._final.set_result(text)
