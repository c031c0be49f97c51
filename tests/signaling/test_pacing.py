"""The pacing clock shared by the WebRTC track, the WebSocket sender, the loopback client and the benchmarks."""

import time

import numpy as np

from signaling.pacing import PacingClock


async def test_frames_are_due_every_frame_time_and_numbered_from_zero():
    clock = PacingClock(0.02)
    produced = []
    indexes = []
    for _ in range(50):
        indexes.append(await clock.wait())
        produced.append(time.monotonic())
    assert indexes == list(range(50)) and clock.frames == 50
    gaps = np.diff(produced)
    assert abs(np.mean(gaps) - 0.020) < 0.002 and gaps.max() < 0.060
    assert clock.late_frames == 0


async def test_a_stall_counts_late_frames_and_restarts_the_clock_instead_of_bursting():
    late = []
    clock = PacingClock(0.02, max_lag_s=0.2, on_late=lambda: late.append(clock.frames))
    for _ in range(3):
        await clock.wait()
    time.sleep(0.5)  # noqa: ASYNC251 - a blocked event loop
    start = time.monotonic()
    for _ in range(10):
        await clock.wait()
    # One frame was late, then the clock restarted from it: the next nine came at the frame rate, not at once.
    assert clock.late_frames == 1 and late == [3]
    assert time.monotonic() - start > 0.15


def test_a_loop_that_waits_its_own_way_reads_due_and_ticks():
    clock = PacingClock(0.02)
    assert clock.tick() == 0
    first_due = clock.due()
    assert 0.015 < first_due - time.monotonic() <= 0.02
    time.sleep(0.05)  # two frames' worth late: counted, but under max_lag_s, so the clock keeps its schedule
    assert clock.tick() == 1 and clock.late_frames == 1
    assert clock.due() == first_due + 0.02
