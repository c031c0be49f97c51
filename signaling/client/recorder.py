"""The agent's voice as the loopback client hears it: recorded, with the arrival time of every frame."""

from __future__ import annotations

import asyncio
import time

import av
import numpy as np

from signaling.client.audio import AUDIBLE_LEVEL, VOICE_DBFS
from voice_agent.audio import OUT_SAMPLE_RATE, PcmResampler, rms_dbfs


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
        """When the first voiced frame after the mark (``arm``) arrived, waiting for it up to ``timeout``."""
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
