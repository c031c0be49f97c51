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
#: The agent's voice: mono Opus at 32 kbit/s (Opus's own guidance for full-band speech), at complexity 5 of 10
#: (about 30% less encoding time than 10, measured in the README's performance section; speech at this rate
#: loses next to nothing).
OPUS_BITRATE = 32_000
OPUS_COMPLEXITY = 5
#: Silent frames encoded for real before the last of them is repeated (the encoder and the voice's tail settle).
SILENCE_FLUSH_FRAMES = 5


class PacedAudioTrack(MediaStreamTrack):
    """An outbound audio track that returns one 20 ms, 48 kHz mono frame per ``recv()``, on a steady clock.

    ``source()`` is called at the moment each frame is due and returns its 960 int16 samples (silence when
    there is nothing to say), so the clock never stalls and the source knows when each frame goes out.

    With ``encode``, ``recv()`` returns the frame already encoded, as an Opus packet (mono, ``OPUS_BITRATE``),
    which aiortc sends as it is. aiortc would otherwise convert every frame to stereo, measure its level in a
    pure Python loop over the samples (about 0.2 ms), and encode it at 96 kbit/s in a thread pool: together
    several times the cost of encoding a mono voice here, in the event loop.
    """

    kind = "audio"

    def __init__(self, source: Callable[[], np.ndarray], *, encode: bool = False) -> None:
        super().__init__()
        self.source = source
        self._encoder = _opus_encoder() if encode else None
        self._silent_frames = 0
        self._silence_packet: bytes | None = None
        self._start: float | None = None
        self._pts = 0
        #: Frames that were due more than one frame ago when produced.
        self.late_frames = 0
        #: Called for each late frame (the app counts them).
        self.on_late: Callable[[], None] | None = None
        self.frames_sent = 0

    async def recv(self) -> av.AudioFrame | av.Packet:
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
        if self._encoder is None:
            return frame
        packet = self._encode(frame, silent=not samples.any())
        packet.pts = self._pts
        packet.time_base = TIME_BASE
        return packet

    def _encode(self, frame: av.AudioFrame, silent: bool) -> av.Packet:
        """One Opus packet for the frame. Digital silence (the agent listening, most of a call) is not encoded
        again and again: after ``SILENCE_FLUSH_FRAMES`` real silent frames (the encoder's state and the voice's
        tail have settled to silence) the last of them is repeated as it is."""
        assert self._encoder is not None
        if silent:
            self._silent_frames += 1
            if self._silence_packet is not None and self._silent_frames > SILENCE_FLUSH_FRAMES:
                return av.Packet(self._silence_packet)
        else:
            self._silent_frames = 0
        # libopus gives exactly one packet per 20 ms frame (its pts carries the encoder's lookahead; the caller
        # sets the frame's place on the call's clock).
        packet = self._encoder.encode(frame)[0]
        if silent and self._silent_frames == SILENCE_FLUSH_FRAMES:
            self._silence_packet = bytes(packet)
        return packet


def _opus_encoder() -> av.CodecContext:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = OUT_SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = OPUS_BITRATE
    encoder.time_base = TIME_BASE
    encoder.options = {"application": "voip", "compression_level": str(OPUS_COMPLEXITY)}
    return encoder


async def consume_audio(track: MediaStreamTrack, sink: Callable[[av.AudioFrame], None]) -> None:
    """Hand every inbound frame to ``sink`` until the track ends."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        sink(frame)
