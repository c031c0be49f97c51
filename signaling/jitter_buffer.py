"""An inbound jitter buffer for speech that goes to a VAD and a recogniser, not to a loudspeaker.

aiortc's audio ``JitterBuffer(capacity=16, prefetch=4)`` releases a frame only once four later frames have
arrived, so every inbound frame waits about 80 ms, and a lost packet holds everything behind it until the
buffer overflows (16 packets, 320 ms). That suits playout; the server does not play the candidate's voice, it
listens to it, and there is nothing to smooth. ``SpeechJitterBuffer`` hands each Opus packet on the moment it
arrives in order. Out of order, it waits for the missing packet while up to ``reorder_packets`` later ones
arrive (one packet, 20 ms, by default), then gives it up as lost: the decoder continues with the next packet, and the
VAD and the recogniser hear 20 ms less, which they tolerate far better than 80 ms of delay on every frame.

With a listener (``deliver_to``), the buffer also decodes: each frame is decoded with a mono Opus decoder of its
own, in the event loop, and handed to the listener at once. aiortc's receiver otherwise queues every encoded
frame to a decoder thread, whose decoded frame comes back to the event loop through another thread hop and the
track's queue: two wake-ups of the loop from another thread per 20 ms for each call, and more time holding the
GIL than the decoding itself (about 40 µs per frame).

aiortc's receiver takes at most one frame per arriving packet, so when a late packet arrives and the packets
behind it are already in, they are handed on together as one Opus packet of several frames (RFC 6716 §3.2.5,
code 3), which the decoder decodes as one longer frame: no backlog is left behind.
"""

from __future__ import annotations

import fractions
import logging
from collections.abc import Callable

import av
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

from voice_agent.turn_options import TurnOptions

log = logging.getLogger(__name__)
OPUS_TIME_BASE = fractions.Fraction(1, 48000)

#: A packet this far behind the expected one is a restarted stream, not a late packet.
MAX_MISORDER = 100
#: Opus packets hold at most 120 ms: six 20 ms frames.
MAX_FRAMES_PER_PACKET = 6
#: Opus frames are at most 1275 bytes (RFC 6716 §3.2.1).
MAX_FRAME_BYTES = 1275


def _frame_length(length: int) -> bytes:
    """A frame length in the one- or two-byte form of RFC 6716 §3.2.1."""
    if length < 252:
        return bytes([length])
    first = 252 + (length & 3)
    return bytes([first, (length - first) >> 2])


def opus_frame_ms(toc: int) -> float:
    """The duration of each frame of an Opus packet, from its TOC byte (RFC 6716 §3.1)."""
    config = toc >> 3
    if config < 12:
        return (10.0, 20.0, 40.0, 60.0)[config % 4]
    if config < 16:
        return (10.0, 20.0)[config % 2]
    return (2.5, 5.0, 10.0, 20.0)[config % 4]


def merge_opus_packets(payloads: list[bytes]) -> bytes | None:
    """Consecutive single-frame Opus packets (code 0) of one configuration as one code-3 packet of several frames
    (variable bitrate, no padding), or None when they cannot share a packet."""
    if not payloads or len(payloads) > MAX_FRAMES_PER_PACKET:
        return None
    toc = payloads[0][0] if payloads[0] else None
    if toc is None or toc & 0x03 != 0 or len(payloads) * opus_frame_ms(toc) > 120:
        return None
    frames = []
    for payload in payloads:
        if not payload or payload[0] != toc or len(payload) - 1 > MAX_FRAME_BYTES:
            return None
        frames.append(payload[1:])
    header = bytes([(toc & 0xFC) | 0x03, 0x80 | len(frames)])
    lengths = b"".join(_frame_length(len(frame)) for frame in frames[:-1])
    return header + lengths + b"".join(frames)


class SpeechJitterBuffer:
    """Audio RTP packets (one Opus frame each) in sequence order, with the least waiting."""

    is_video = False

    def __init__(self, capacity: int = 16, reorder_packets: int | None = None) -> None:
        self.capacity = capacity
        if reorder_packets is None:
            reorder_packets = TurnOptions().jitter_reorder_packets
        self.reorder_packets = max(0, reorder_packets)
        self._next: int | None = None
        self._waiting: dict[int, RtpPacket] = {}
        #: Packets given up as lost, and late ones dropped (already passed over).
        self.lost = 0
        self.late = 0
        self._listener: Callable[[av.AudioFrame], None] | None = None
        self._decoder: av.CodecContext | None = None
        self.decode_errors = 0

    def deliver_to(self, listener: Callable[[av.AudioFrame], None]) -> None:
        """Decode every frame here (48 kHz mono) and hand it to ``listener``, instead of returning it to aiortc's
        decoder thread."""
        decoder = av.CodecContext.create("libopus", "r")
        decoder.sample_rate = 48000
        decoder.layout = "mono"
        decoder.format = "s16"
        self._decoder = decoder
        self._listener = listener

    def _decode(self, frame: JitterFrame) -> None:
        assert self._decoder is not None and self._listener is not None
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = OPUS_TIME_BASE
        try:
            decoded = self._decoder.decode(packet)
        except av.FFmpegError as exc:
            self.decode_errors += 1
            log.debug("an inbound Opus frame did not decode: %s", exc)
            return
        for audio in decoded:
            self._listener(audio)

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """Take an arriving packet; returns ``(False, frame)`` with the next frame to decode, if any (the first
        value is aiortc's picture-loss flag, always False for audio)."""
        seq = packet.sequence_number
        if self._next is None:
            self._next = seq
        elif seq != self._next and not uint16_gt(seq, self._next):
            if uint16_add(self._next, -seq) < MAX_MISORDER:
                self.late += 1  # already given up, or a duplicate
                return False, None
            self._restart(seq)  # the sender restarted its sequence far behind
        elif uint16_add(seq, -self._next) >= self.capacity:
            self._restart(seq)  # a long gap: start again from here
        self._waiting[seq] = packet
        if self._next not in self._waiting and len(self._waiting) > self.reorder_packets:
            # The expected packet is overdue: skip to the oldest one we have.
            oldest = min(self._waiting, key=lambda s: uint16_add(s, -self._next))
            self.lost += uint16_add(oldest, -self._next)
            self._next = oldest
        if self._next not in self._waiting:
            return False, None
        ready = [self._waiting.pop(self._next)]
        self._next = uint16_add(self._next, 1)
        while self._next in self._waiting and len(ready) < MAX_FRAMES_PER_PACKET:
            ready.append(self._waiting.pop(self._next))
            self._next = uint16_add(self._next, 1)
        payloads = [packet._data for packet in ready]  # type: ignore[attr-defined]
        data = payloads[0] if len(payloads) == 1 else merge_opus_packets(payloads)
        if data is None:
            # Frames that cannot share a packet (a change of mode): hand on the first, keep the rest waiting.
            for packet in ready[1:]:
                self._waiting[packet.sequence_number] = packet
            self._next = uint16_add(ready[0].sequence_number, 1)
            data = payloads[0]
        frame = JitterFrame(data=data, timestamp=ready[0].timestamp)
        if self._listener is not None:
            self._decode(frame)
            return False, None
        return False, frame

    def _restart(self, seq: int) -> None:
        self._waiting.clear()
        self._next = seq

    def remove(self, count: int) -> None:
        """aiortc's interface: forget ``count`` packets from the expected one on."""
        for _ in range(count):
            if self._next is None:
                return
            self._waiting.pop(self._next, None)
            self._next = uint16_add(self._next, 1)
