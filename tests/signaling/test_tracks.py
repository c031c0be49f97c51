"""The paced outbound track: a 20 ms frame on a steady clock, silence when idle, correct timestamps."""

import asyncio
import time

import numpy as np

from signaling.tracks import PacedAudioTrack, opus_encoder


async def test_frames_come_every_20_ms_with_increasing_pts():
    due = []

    def source() -> np.ndarray:
        due.append(time.monotonic())
        return np.zeros(960, np.int16)

    track = PacedAudioTrack(source)
    frames = [await track.recv() for _ in range(100)]
    assert [f.pts for f in frames] == [i * 960 for i in range(100)]
    assert all(f.sample_rate == 48000 and f.samples == 960 and f.layout.name == "mono" for f in frames)
    assert str(frames[0].time_base) == "1/48000"
    gaps = np.diff(due)
    assert abs(np.mean(gaps) - 0.020) < 0.002
    assert gaps.max() < 0.060
    track.stop()


async def test_after_a_stall_the_clock_resyncs_instead_of_bursting():
    track = PacedAudioTrack(lambda: np.zeros(960, np.int16))
    for _ in range(5):
        await track.recv()
    time.sleep(0.5)  # noqa: ASYNC251 - the event loop was blocked (what we never want, but must survive)
    start = time.monotonic()
    for _ in range(10):
        await track.recv()
    # Resynced: ten more frames take about ten frame times, not zero (a burst of 25 catch-up frames).
    assert time.monotonic() - start > 0.12
    assert track.late_frames >= 1
    track.stop()
    await asyncio.sleep(0)


async def test_an_encoding_track_sends_opus_packets_that_decode_to_its_voice():
    import av
    from aiortc.codecs.opus import OpusDecoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtp import RtpPacket

    from signaling.jitter_buffer import SpeechJitterBuffer

    tone = (np.sin(2 * np.pi * 440 * np.arange(960 * 10) / 48000) * 8000).astype(np.int16)
    chunks = iter(tone.reshape(10, 960))
    track = PacedAudioTrack(lambda: next(chunks), encode=True)
    packets = [await track.recv() for _ in range(10)]
    track.stop()
    assert all(isinstance(p, av.Packet) for p in packets)
    assert [p.pts for p in packets] == [i * 960 for i in range(10)]
    assert all(bytes(p)[0] & 0x04 == 0 for p in packets)  # mono (the TOC's stereo bit is clear)
    # aiortc's own decoder plays them back as the tone (after the codec's first few milliseconds).
    decoder = OpusDecoder()
    decoded = np.concatenate(
        [f.to_ndarray()[0, ::2] for p in packets for f in decoder.decode(JitterFrame(bytes(p), 0))][-4:]
    )
    assert 6000 < np.abs(decoded).max() < 10000

    # The speech buffer's own decoder (the server's inbound path) hears them too, one frame per packet.
    heard = []
    buffer = SpeechJitterBuffer()
    buffer.deliver_to(heard.append)
    for seq, p in enumerate(packets):
        rtp = RtpPacket(payload_type=111, sequence_number=seq, timestamp=seq * 960)
        rtp._data = bytes(p)
        assert buffer.add(rtp) == (False, None)
    assert len(heard) == 10 and all(f.samples == 960 and f.layout.name == "mono" for f in heard)
    assert 6000 < np.abs(heard[-1].to_ndarray()).max() < 10000


async def test_while_the_agent_is_silent_the_encoder_rests_and_speech_after_it_decodes_cleanly():
    from aiortc.codecs.opus import OpusDecoder
    from aiortc.jitterbuffer import JitterFrame

    tone = (np.sin(2 * np.pi * 440 * np.arange(960 * 5) / 48000) * 8000).astype(np.int16).reshape(5, 960)
    script = [*tone, *np.zeros((40, 960), np.int16), *tone]
    frames = iter(script)
    calls = 0

    class Counting:
        def __init__(self, encoder):
            self.encoder = encoder

        def encode(self, frame):
            nonlocal calls
            calls += 1
            return self.encoder.encode(frame)

    track = PacedAudioTrack(lambda: next(frames), encoder=Counting(opus_encoder()))
    packets = [bytes(await track.recv()) for _ in range(len(script))]
    track.stop()
    # 5 tone frames, 5 real silent ones, then the same silence packet repeated, then the tone again.
    assert calls == 5 + 5 + 5
    assert len(set(packets[10:45])) == 1
    decoder = OpusDecoder()
    decoded = [f.to_ndarray()[0, ::2] for p in packets for f in decoder.decode(JitterFrame(p, 0))]
    assert max(np.abs(d).max() for d in decoded[12:45]) < 50  # silence
    assert 6000 < np.abs(decoded[-1]).max() < 10000  # and the voice again, at its level
