"""The inbound speech jitter buffer: no waiting in order, a short wait out of order, nothing lost that arrived."""

from __future__ import annotations

import fractions

import av
import numpy as np
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

from signaling.jitter_buffer import SpeechJitterBuffer, merge_opus_packets


def opus_payloads(count: int) -> list[bytes]:
    """``count`` consecutive 20 ms Opus packets of a tone, as a browser would send them."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, 48000)
    t = np.arange(960 * count) / 48000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    payloads: list[bytes] = []
    for i in range(count):
        chunk = np.repeat(tone[i * 960 : (i + 1) * 960], 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i * 960
        payloads += [bytes(p) for p in encoder.encode(frame)]
    return payloads[:count]


def rtp(seq: int, payload: bytes = b"\x78\x00") -> RtpPacket:
    packet = RtpPacket(payload_type=111, sequence_number=seq % 65536, timestamp=seq * 960)
    packet._data = payload  # aiortc's receiver sets the depayloaded data here
    return packet


def feed(buffer: SpeechJitterBuffer, seqs: list[int]) -> list[JitterFrame | None]:
    return [buffer.add(rtp(seq))[1] for seq in seqs]


def test_packets_in_order_are_handed_on_as_they_arrive():
    frames = feed(SpeechJitterBuffer(), [100, 101, 102, 103])
    assert [f.timestamp // 960 for f in frames] == [100, 101, 102, 103]


def test_a_late_packet_within_the_window_is_decoded_in_order_with_the_one_behind_it():
    buffer = SpeechJitterBuffer()
    frames = feed(buffer, [10, 12, 11, 13])  # 11 arrives one packet late
    assert frames[1] is None  # 12 waits for 11
    assert frames[2].timestamp // 960 == 11 and frames[3].timestamp // 960 == 13
    assert buffer.lost == 0


def test_a_lost_packet_is_given_up_after_one_more_and_a_straggler_is_dropped():
    buffer = SpeechJitterBuffer()
    frames = feed(buffer, [20, 22, 23, 21, 24])  # 21 is lost (it comes too late to use)
    assert frames[1] is None
    assert frames[2] is not None and frames[2].timestamp // 960 == 22  # 22 and 23 together
    assert frames[3] is None and buffer.late == 1
    assert frames[4].timestamp // 960 == 24 and buffer.lost == 1


def test_sequence_numbers_wrap_around():
    frames = feed(SpeechJitterBuffer(), [65534, 65535, 0, 1])
    assert all(f is not None for f in frames)


def test_merged_packets_decode_to_the_same_audio_as_the_packets_one_by_one():
    payloads = opus_payloads(4)
    one_by_one = OpusDecoder()
    separate = np.concatenate([f.to_ndarray() for p in payloads for f in one_by_one.decode(JitterFrame(p, 0))], axis=1)
    merged = merge_opus_packets(payloads)
    assert merged is not None and len(merged) < sum(map(len, payloads)) + 8
    together = np.concatenate([f.to_ndarray() for f in OpusDecoder().decode(JitterFrame(merged, 0))], axis=1)
    assert together.shape == separate.shape == (1, 2 * 960 * 4)
    assert np.array_equal(together, separate)


def test_packets_of_different_modes_are_not_merged():
    assert merge_opus_packets([b"\x78\x01\x02", b"\x80\x01\x02"]) is None
    assert merge_opus_packets([b"\x7b\x01"]) is None  # already a multi-frame packet
