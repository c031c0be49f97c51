"""Recording a call as Ogg/Opus with PyAV: the candidate on the left channel, the agent on the right.

Two channels rather than a mix, so each side can be heard (or analysed) alone and neither masks the other.
The agent's frames set the clock (one 20 ms frame each, sent on a steady clock); each is paired with the next
20 ms of the candidate's audio, or silence when none has arrived, and a candidate backlog is bounded so the two
sides never drift more than ``MAX_SKEW_FRAMES`` apart. Encoding runs in batches on a worker thread, off the
media path.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from pathlib import Path

import av
import numpy as np

from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE, Framer, PcmResampler

log = logging.getLogger(__name__)

#: How far (in 20 ms frames) the candidate's audio may run ahead of the agent's clock before the oldest is dropped.
MAX_SKEW_FRAMES = 10
FLUSH_EVERY_S = 1.0


class CallRecorder:
    """Writes one call to ``path`` (``.ogg``); ``close()`` finishes the file and returns its length in seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._candidate = deque[np.ndarray](maxlen=MAX_SKEW_FRAMES)
        self._candidate_framer = Framer(OUT_FRAME_SAMPLES)
        self._candidate_resampler = PcmResampler(OUT_SAMPLE_RATE)
        self._pending: list[np.ndarray] = []
        self._frames_written = 0
        self._container: av.container.OutputContainer | None = None
        self._stream: av.audio.stream.AudioStream | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.seconds = 0.0

    async def start(self) -> None:
        """Open the file and start the background encoder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.get_running_loop().run_in_executor(None, self._open)
        self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically(), name="recording")

    def _open(self) -> None:
        self._container = av.open(str(self.path), "w", format="ogg")
        self._stream = self._container.add_stream("libopus", rate=OUT_SAMPLE_RATE)
        self._stream.layout = "stereo"
        self._stream.bit_rate = 64000

    def add_candidate_frame(self, frame: av.AudioFrame) -> None:
        """Inbound audio as it arrived (any rate and layout)."""
        self._add_candidate(self._candidate_resampler.resample_frame(frame))

    def add_candidate_pcm(self, samples: np.ndarray, sample_rate: int) -> None:
        """Inbound audio as samples."""
        self._add_candidate(self._candidate_resampler.resample(samples, sample_rate))

    def _add_candidate(self, samples: np.ndarray) -> None:
        self._candidate.extend(self._candidate_framer.push(samples))

    def add_agent_frame(self, frame: np.ndarray) -> None:
        """One 20 ms frame the agent sent: the recording's clock."""
        candidate = self._candidate.popleft() if self._candidate else None
        stereo = np.zeros(2 * OUT_FRAME_SAMPLES, np.int16)
        if candidate is not None:
            stereo[0::2] = candidate
        stereo[1::2] = frame
        self._pending.append(stereo)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self._flush()

    async def _flush(self, final: bool = False) -> None:
        async with self._lock:
            frames, self._pending = self._pending, []
            if frames or final:
                await asyncio.get_running_loop().run_in_executor(None, self._encode, frames, final)

    def _encode(self, frames: list[np.ndarray], final: bool) -> None:
        container, stream = self._container, self._stream
        if container is None or stream is None:
            return
        for samples in frames:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate = OUT_SAMPLE_RATE
            frame.pts = self._frames_written * OUT_FRAME_SAMPLES
            self._frames_written += 1
            for packet in stream.encode(frame):
                container.mux(packet)
        if final:
            for packet in stream.encode(None):
                container.mux(packet)
            container.close()
            self._container = None

    async def close(self) -> float:
        """Encode what is left and close the file."""
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
        try:
            await self._flush(final=True)
        except Exception:
            log.exception("closing the recording %s failed", self.path)
        self.seconds = self._frames_written * OUT_FRAME_SAMPLES / OUT_SAMPLE_RATE
        return self.seconds
