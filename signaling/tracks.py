"""Media tracks: the paced outbound voice, and the loop that feeds inbound audio to a consumer."""

from __future__ import annotations

import fractions
from collections.abc import Callable
from typing import Protocol

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from signaling.pacing import PacingClock
from voice_agent.audio import OUT_FRAME_SAMPLES, OUT_SAMPLE_RATE
from voice_agent.turn_options import TurnOptions

TIME_BASE = fractions.Fraction(1, OUT_SAMPLE_RATE)
#: The agent's voice: mono Opus at 32 kbit/s (Opus's own guidance for full-band speech), at complexity 5 of 10
#: (about 30% less encoding time than 10, measured in the README's performance section; speech at this rate
#: loses next to nothing).
OPUS_BITRATE = 32_000
#: Silent frames encoded for real before the last of them is repeated (the encoder and the voice's tail settle).
SILENCE_FLUSH_FRAMES = 5


class PacketEncoder(Protocol):
    """What the track encodes with: ``av.CodecContext`` (``opus_encoder()``), or a wrapper around one."""

    def encode(self, frame: av.AudioFrame) -> list[av.Packet]:
        """The packets of one frame (libopus: exactly one per 20 ms frame)."""
        ...


class PacedAudioTrack(MediaStreamTrack):
    """An outbound audio track that returns one 20 ms, 48 kHz mono frame per ``recv()``, on a steady clock.

    ``source()`` is called at the moment each frame is due and returns its 960 int16 samples (silence when
    there is nothing to say), so the clock never stalls and the source knows when each frame goes out.

    With ``encode``, ``recv()`` returns the frame already encoded, as an Opus packet (mono, ``OPUS_BITRATE``),
    which aiortc sends as it is. aiortc would otherwise convert every frame to stereo, measure its level in a
    pure Python loop over the samples (about 0.2 ms), and encode it at 96 kbit/s in a thread pool: together
    several times the cost of encoding a mono voice here, in the event loop. ``encoder`` replaces the encoder
    ``encode`` would create (``opus_encoder()``). ``on_late`` is called for each frame produced more than a frame
    late (the call passes it on to whoever counts them).
    """

    kind = "audio"

    def __init__(
        self,
        source: Callable[[], np.ndarray],
        *,
        encode: bool = False,
        encoder: PacketEncoder | None = None,
        on_late: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self._encoder = encoder if encoder is not None else opus_encoder() if encode else None
        self._silent_frames = 0
        self._silence_packet: bytes | None = None
        self._clock = PacingClock(OUT_FRAME_SAMPLES / OUT_SAMPLE_RATE, on_late=on_late)
        self.frames_sent = 0

    @property
    def late_frames(self) -> int:
        """Frames that were due more than one frame ago when produced."""
        return self._clock.late_frames

    async def recv(self) -> av.AudioFrame | av.Packet:
        """The next frame (or Opus packet), when it is due."""
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._clock.wait() * OUT_FRAME_SAMPLES
        samples = self.source()
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = OUT_SAMPLE_RATE
        frame.pts = pts
        frame.time_base = TIME_BASE
        self.frames_sent += 1
        if self._encoder is None:
            return frame
        packet = self._encode(frame, silent=not samples.any())
        packet.pts = pts
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


def opus_encoder(complexity: int | None = None) -> av.CodecContext:
    """A fresh encoder for the agent's voice: mono Opus at ``OPUS_BITRATE``, of ``complexity`` (0-10; by default
    ``TurnOptions.opus_complexity``)."""
    if complexity is None:
        complexity = TurnOptions().opus_complexity
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = OUT_SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = OPUS_BITRATE
    encoder.time_base = TIME_BASE
    encoder.options = {"application": "voip", "compression_level": str(complexity)}
    return encoder


async def consume_audio(track: MediaStreamTrack, sink: Callable[[av.AudioFrame], None]) -> None:
    """Hand every inbound frame to ``sink`` until the track ends."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        sink(frame)
