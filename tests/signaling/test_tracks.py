"""The paced outbound track: a 20 ms frame on a steady clock, silence when idle, correct timestamps."""

import asyncio
import time

import numpy as np

from signaling.tracks import PacedAudioTrack


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
