"""Voice activity detection and endpointing: webrtcvad per 20 ms frame, with hysteresis and pre-roll.

The endpointer turns a stream of frames into a few events:

- ``SpeechStarted`` once ``start_voiced_frames`` of the last ``start_window_frames`` frames are voiced
  (about 60 ms of speech); it carries the pre-roll (up to ``preroll_ms`` before the first voiced frame), so the
  first syllables reach STT.
- ``SpeechSustained`` when the speech has lasted ``barge_in_ms`` with three quarters of its frames voiced:
  the signal that may interrupt the agent (a cough or a click does not).
- ``SpeechHesitated`` after ``early_pause_ms`` of silence inside speech: the earliest moment an interim
  transcript may be stable enough to start the reply (behind a gate).
- ``SpeechPaused`` after ``pause_ms`` of silence inside speech (a natural boundary: STT may decode what it
  has, the turn manager may start an early reply), and ``SpeechResumed`` if speech returns before the end.
- ``SpeechEnded`` after ``hangover_ms`` of silence. Its ``last_voiced_time`` is the end of the last voiced
  frame, not the moment the end was declared: the difference is the endpointing delay.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import webrtcvad
from pydantic import BaseModel, Field

from voice_agent.audio import FRAME_MS, VAD_SAMPLE_RATE

SpeechClassifier = Callable[[bytes], bool]


class VadOptions(BaseModel):
    """Endpointing settings (times in milliseconds, multiples of 20 ms)."""

    aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode: 0 lenient .. 3 strict")
    start_window_frames: int = Field(5, ge=1, description="frames looked at to declare speech")
    start_voiced_frames: int = Field(3, ge=1, description="voiced frames in that window that start speech")
    hangover_ms: int = Field(480, ge=60, description="silence that ends the candidate's turn")
    early_pause_ms: int = Field(100, ge=20, description="silence after which an early reply may start")
    pause_ms: int = Field(
        200, ge=40, description="silence inside speech counted as a pause: the end-of-turn signals are asked"
    )
    preroll_ms: int = Field(200, ge=0, description="audio kept from before speech starts")
    barge_in_ms: int = Field(150, ge=20, description="speech needed to interrupt the agent")


def webrtc_classifier(aggressiveness: int) -> SpeechClassifier:
    """webrtcvad's verdict on one 20 ms frame of 16 kHz s16 PCM."""
    vad = webrtcvad.Vad(aggressiveness)

    def classify(frame: bytes) -> bool:
        return vad.is_speech(frame, VAD_SAMPLE_RATE)

    return classify


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began at frame ``index`` (the first voiced frame of the window that confirmed it)."""

    index: int
    time: float
    preroll: list[bytes] = field(repr=False)


@dataclass(frozen=True, slots=True)
class SpeechSustained:
    """Speech has lasted long enough to interrupt the agent."""

    index: int
    time: float


@dataclass(frozen=True, slots=True)
class SpeechHesitated:
    """A short silence inside speech (``early_pause_ms``); ``last_voiced_*`` is where the speech stopped."""

    last_voiced_index: int
    last_voiced_time: float


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """A pause inside speech; ``last_voiced_*`` is where the speech before it ended."""

    last_voiced_index: int
    last_voiced_time: float


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """Speech came back after a pause, before the end of the turn."""

    index: int
    time: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The end of the turn, declared at frame ``index``; the speech itself ended at ``last_voiced_*``."""

    index: int
    time: float
    start_index: int
    last_voiced_index: int
    last_voiced_time: float
    voiced_frames: int

    @property
    def speech_seconds(self) -> float:
        """From the first to the end of the last voiced frame."""
        return (self.last_voiced_index - self.start_index + 1) * FRAME_MS / 1000


VadEvent = SpeechStarted | SpeechSustained | SpeechHesitated | SpeechPaused | SpeechResumed | SpeechEnded


def _frames(ms: int) -> int:
    """Whole frames covering ``ms`` milliseconds (rounded up)."""
    return -(-ms // FRAME_MS)


class VadEndpointer:
    """Feeds frames through a speech classifier and reports speech start, pauses, barge-in and end."""

    def __init__(self, options: VadOptions | None = None, classifier: SpeechClassifier | None = None) -> None:
        self.options = options or VadOptions()
        self.classify = classifier or webrtc_classifier(self.options.aggressiveness)
        o = self.options
        self._preroll_frames = _frames(o.preroll_ms)
        self._hangover_frames = max(1, _frames(o.hangover_ms))
        self._pause_frames = max(1, _frames(o.pause_ms))
        self._early_frames = max(1, _frames(o.early_pause_ms))
        self._barge_in_frames = max(1, _frames(o.barge_in_ms))
        self._history: deque[tuple[int, bytes]] = deque(maxlen=self._preroll_frames + o.start_window_frames)
        self._window: deque[tuple[int, bool, float]] = deque(maxlen=o.start_window_frames)
        self.index = -1
        #: The classifier's verdict on the last frame.
        self.voiced = False
        self.in_speech = False
        self._start_index = 0
        self._last_voiced = (0, 0.0)
        self._silent_run = 0
        self._voiced_count = 0
        self._paused = False
        self._hesitating = False
        self._sustained = False

    @property
    def silent_frames(self) -> int:
        """Unvoiced frames since the last voiced one of the speech in progress (0 outside speech)."""
        return self._silent_run if self.in_speech else 0

    @property
    def last_voiced_index(self) -> int:
        """The index of the last voiced frame of the speech in progress (or of the last speech)."""
        return self._last_voiced[0]

    def end_now(self, time: float) -> SpeechEnded | None:
        """End the speech in progress here (the turn decisions or the STT decided it is over) and return its
        ``SpeechEnded``, or None outside speech; the next voice starts anew."""
        ended = None
        if self.in_speech:
            ended = SpeechEnded(self.index, time, self._start_index, *self._last_voiced, self._voiced_count)
        self.in_speech = False
        self._history.clear()
        self._window.clear()
        return ended

    def process(self, frame: bytes, time: float) -> list[VadEvent]:
        """Classify one 20 ms frame that arrived at ``time`` and return what it changed."""
        self.index += 1
        voiced = self.voiced = self.classify(frame)
        if not self.in_speech:
            return self._while_silent(frame, voiced, time)
        return self._while_speaking(voiced, time)

    def _while_silent(self, frame: bytes, voiced: bool, time: float) -> list[VadEvent]:
        o = self.options
        self._history.append((self.index, frame))
        self._window.append((self.index, voiced, time))
        voiced_in_window = sum(1 for _, v, _ in self._window if v)
        if voiced_in_window < o.start_voiced_frames:
            return []
        first_index, _, first_time = next(w for w in self._window if w[1])
        earliest = first_index - self._preroll_frames
        preroll = [f for i, f in self._history if i >= earliest]
        self.in_speech = True
        self._start_index = first_index
        self._voiced_count = voiced_in_window
        self._last_voiced = (self.index, time) if voiced else self._last_voiced_in_window()
        self._silent_run = self.index - self._last_voiced[0]
        self._paused = False
        self._hesitating = False
        self._sustained = False
        self._history.clear()
        self._window.clear()
        events: list[VadEvent] = [SpeechStarted(first_index, first_time, preroll)]
        events += self._check_sustained(time)
        return events

    def _last_voiced_in_window(self) -> tuple[int, float]:
        index, _, time = next(w for w in reversed(self._window) if w[1])
        return index, time

    def _while_speaking(self, voiced: bool, time: float) -> list[VadEvent]:
        events: list[VadEvent] = []
        if voiced:
            if self._paused or self._hesitating:
                self._paused = self._hesitating = False
                events.append(SpeechResumed(self.index, time))
            self._silent_run = 0
            self._voiced_count += 1
            self._last_voiced = (self.index, time)
        else:
            self._silent_run += 1
        events += self._check_sustained(time)
        if self._silent_run == self._early_frames and self._early_frames < self._pause_frames:
            self._hesitating = True
            events.append(SpeechHesitated(*self._last_voiced))
        if self._silent_run == self._pause_frames and not self._paused:
            self._paused = True
            events.append(SpeechPaused(*self._last_voiced))
        if self._silent_run >= self._hangover_frames:
            self.in_speech = False
            events.append(SpeechEnded(self.index, time, self._start_index, *self._last_voiced, self._voiced_count))
        return events

    def _check_sustained(self, time: float) -> list[VadEvent]:
        if self._sustained:
            return []
        frames = self.index - self._start_index + 1
        if frames >= self._barge_in_frames and self._voiced_count * 4 >= frames * 3:
            self._sustained = True
            return [SpeechSustained(self.index, time)]
        return []
