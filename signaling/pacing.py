"""The pacing clock every outbound audio path runs on: one 20 ms frame after another, on a steady clock.

Frame ``n`` is due at ``start + n * frame_s``, where ``start`` is when the first frame was produced. A frame
produced more than one frame late counts in ``late_frames`` (and calls ``on_late``); more than ``max_lag_s``
late, the clock restarts from now instead of bursting frames to catch up a long stall (a blocked event loop).

``wait()`` sleeps until the next frame is due (a frame that had to wait is on time); a loop that waits in its
own way (the WebSocket sender writes events while it waits) reads ``due()`` and calls ``tick()`` when it
produces the frame. Used by the WebRTC track (``signaling.tracks``), the WebSocket sender
(``signaling.ws_stream``), the loopback client's microphones and the benchmarks' tracks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from voice_agent.audio import FRAME_MS

#: One frame of audio: 20 ms.
FRAME_SECONDS = FRAME_MS / 1000
#: Behind schedule by more than this, the clock is reset instead of bursting frames to catch up.
MAX_LAG_SECONDS = 0.2


class PacingClock:
    """A steady frame clock that never bursts to catch up a long stall (see the module docstring)."""

    def __init__(
        self,
        frame_s: float = FRAME_SECONDS,
        *,
        max_lag_s: float = MAX_LAG_SECONDS,
        on_late: Callable[[], None] | None = None,
    ) -> None:
        """``on_late`` is called for each frame produced more than a frame late (the app counts them)."""
        self.frame_s = frame_s
        self.max_lag_s = max_lag_s
        self._on_late = on_late
        self._start: float | None = None
        #: Frames produced so far (the index of the next one).
        self.frames = 0
        #: Frames produced more than one frame after they were due.
        self.late_frames = 0

    def due(self) -> float:
        """When the next frame is due (``time.monotonic()``); now for the first frame."""
        if self._start is None:
            return time.monotonic()
        return self._start + self.frames * self.frame_s

    def tick(self) -> int:
        """The next frame is being produced now; returns its index (0 for the first)."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            lag = now - (self._start + self.frames * self.frame_s)
            if lag > self.frame_s:
                self.late_frames += 1
                if self._on_late is not None:
                    self._on_late()
                if lag > self.max_lag_s:
                    self._start = now - self.frames * self.frame_s
        index = self.frames
        self.frames += 1
        return index

    async def wait(self) -> int:
        """Sleep until the next frame is due (not at all when it is due already), mark it produced, and return
        its index. A frame that had to be waited for is on time."""
        if self._start is not None:
            delay = self._start + self.frames * self.frame_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                index = self.frames
                self.frames += 1
                return index
        return self.tick()
