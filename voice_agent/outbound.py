"""The agent's outbound audio: a queue of 20 ms frames that remembers which sentence each frame speaks.

The transport pulls one frame every 20 ms; when the queue is empty it gets silence, so its clock never
stalls. Barge-in clears the queue at once, and what was actually played can be told from the segments.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from voice_agent.audio import OUT_FRAME_SAMPLES


@dataclass(slots=True)
class Segment:
    """One sentence of the agent's reply and how much of its audio was queued and played."""

    text: str
    frames_total: int = 0
    frames_played: int = 0
    complete: bool = False

    @property
    def started(self) -> bool:
        return self.frames_played > 0

    @property
    def finished(self) -> bool:
        return self.complete and self.frames_played >= self.frames_total

    def played_text(self) -> str:
        """The words of this sentence that were heard, in proportion to the audio played."""
        if self.finished:
            return self.text
        if self.frames_played == 0 or self.frames_total == 0:
            return ""
        words = self.text.split()
        heard = round(len(words) * self.frames_played / self.frames_total)
        return " ".join(words[:heard])


def played_text(segments: list[Segment]) -> str:
    """What the candidate heard of a reply."""
    return " ".join(t for t in (s.played_text() for s in segments) if t)


class OutboundAudio:
    """FIFO of 48 kHz mono int16 frames tagged with their segment."""

    def __init__(self) -> None:
        self._frames: deque[tuple[np.ndarray, Segment]] = deque()
        #: While paused, ``pull`` gives silence and keeps the queue (the agent holds its breath).
        self.paused = False
        self._silence = np.zeros(OUT_FRAME_SAMPLES, np.int16)
        self._silence.setflags(write=False)

    def __len__(self) -> int:
        return len(self._frames)

    def enqueue(self, frame: np.ndarray, segment: Segment) -> None:
        """Queue one frame of ``OUT_FRAME_SAMPLES`` samples."""
        segment.frames_total += 1
        self._frames.append((frame, segment))

    def pull(self) -> tuple[np.ndarray, Segment | None]:
        """The next frame and its segment, or silence and None (when empty or paused)."""
        if not self._frames or self.paused:
            return self._silence, None
        frame, segment = self._frames.popleft()
        segment.frames_played += 1
        return frame, segment

    def clear(self) -> int:
        """Drop everything queued; returns how many frames were dropped."""
        dropped = len(self._frames)
        self._frames.clear()
        return dropped
