"""Media tracks: the paced outbound voice, and the loop that feeds inbound audio to a consumer."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE

TIME_BASE = fractions.Fraction(1, OUT_SAMPLE_RATE)
FRAME_SECONDS = OUT_FRAME_SAMPLES / OUT_SAMPLE_RATE
#: Behind schedule by more than this, the clock is reset instead of bursting frames to catch up.
MAX_LAG_SECONDS = 0.2


class PacedAudioTrack(MediaStreamTrack):
    """An outbound audio track that returns one 20 ms, 48 kHz mono frame per ``recv()``, on a steady clock.

    ``source()`` is called at the moment each frame is due and returns its 960 int16 samples (silence when
    there is nothing to say), so the clock never stalls and the source knows when each frame goes out.
    """

    kind = "audio"

    def __init__(self, source: Callable[[], np.ndarray]) -> None:
        super().__init__()
        self.source = source
        self._start: float | None = None
        self._pts = 0
        #: Frames that were due more than one frame ago when produced.
        self.late_frames = 0
        #: Called for each late frame (the app counts them).
        self.on_late: Callable[[], None] | None = None
        self.frames_sent = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._pts += OUT_FRAME_SAMPLES
            wait = self._start + self._pts / OUT_SAMPLE_RATE - now
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -FRAME_SECONDS:
                self.late_frames += 1
                if self.on_late is not None:
                    self.on_late()
                if wait < -MAX_LAG_SECONDS:
                    self._start = now - self._pts / OUT_SAMPLE_RATE
        samples = self.source()
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self.frames_sent += 1
        return frame


async def consume_audio(track: MediaStreamTrack, sink: Callable[[av.AudioFrame], None]) -> None:
    """Hand every inbound frame to ``sink`` until the track ends."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        sink(frame)
