"""The candidate's speech handed to a microphone a frame at a time (either transport)."""

from __future__ import annotations

import asyncio
import time
from collections import deque

import numpy as np

from signaling.client.audio import VOICE_DBFS
from voice_agent.audio import Framer, rms_dbfs


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
