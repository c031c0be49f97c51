"""VAD endpointing: exact frames with a scripted classifier, and webrtcvad on synthetic speech-like bursts."""

import numpy as np
import pytest

from tests.voice_agent.signals import speech_like
from voice_agent.vad import (
    SpeechEnded,
    SpeechHesitated,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    SpeechSustained,
    VadEndpointer,
    VadOptions,
    webrtc_classifier,
)

FRAME = bytes(640)


def run(pattern: str, options: VadOptions | None = None) -> list:
    """Feed frames whose voicing is given by ``pattern`` ('1' voiced, '.' silent); events with their frame."""
    verdicts = iter(pattern)
    endpointer = VadEndpointer(options or VadOptions(), classifier=lambda _frame: next(verdicts) == "1")
    events = []
    for index in range(len(pattern)):
        for event in endpointer.process(FRAME, time=index * 0.02):
            events.append((index, event))
    return events


def test_speech_starts_on_three_voiced_frames_in_five_and_carries_the_preroll():
    events = run("." * 20 + "1" * 30 + "." * 30)
    index, started = events[0]
    assert isinstance(started, SpeechStarted)
    assert index == 22  # the third voiced frame confirms it
    assert started.index == 20  # ... and the speech began at the first
    assert len(started.preroll) == 13  # 200 ms before the first voiced frame, through the confirming frame


def test_end_is_declared_after_the_hangover_and_reports_the_last_voiced_frame():
    events = run("." * 20 + "1" * 30 + "." * 30)
    kinds = [(i, type(e).__name__) for i, e in events]
    assert kinds == [
        (22, "SpeechStarted"),
        (27, "SpeechSustained"),
        (54, "SpeechHesitated"),  # 100 ms of silence: an early reply may start
        (59, "SpeechPaused"),  # 200 ms: a pause, where the end-of-turn signals are asked
        (73, "SpeechEnded"),  # 480 ms: the end of the turn
    ]
    ended = events[-1][1]
    assert isinstance(ended, SpeechEnded)
    assert ended.last_voiced_index == 49
    assert ended.last_voiced_time == pytest.approx(49 * 0.02)
    assert ended.speech_seconds == pytest.approx(0.6)
    assert ended.voiced_frames == 30
    assert (ended.time - ended.last_voiced_time) == pytest.approx(0.48)  # the endpointing delay


def test_a_pause_shorter_than_the_hangover_keeps_the_turn_open():
    events = run("." * 10 + "1" * 20 + "." * 15 + "1" * 10 + "." * 30)
    kinds = [(i, type(e).__name__) for i, e in events]
    assert kinds == [
        (12, "SpeechStarted"),
        (17, "SpeechSustained"),
        (34, "SpeechHesitated"),
        (39, "SpeechPaused"),
        (45, "SpeechResumed"),
        (59, "SpeechHesitated"),
        (64, "SpeechPaused"),
        (78, "SpeechEnded"),
    ]
    paused = events[3][1]
    assert isinstance(paused, SpeechPaused) and paused.last_voiced_index == 29
    assert isinstance(events[4][1], SpeechResumed)


def test_clicks_never_start_speech():
    assert run("1...1...1..1....1" * 4) == []


def test_a_short_burst_starts_speech_but_is_not_sustained():
    events = run("." * 5 + "1111" + "." * 40)
    assert [type(e) for _, e in events] == [SpeechStarted, SpeechHesitated, SpeechPaused, SpeechEnded]
    assert not any(isinstance(e, SpeechSustained) for _, e in events)


def test_barge_in_threshold_follows_the_option():
    events = run("." * 5 + "1" * 40 + "." * 30, VadOptions(barge_in_ms=300))
    sustained = [i for i, e in events if isinstance(e, SpeechSustained)]
    assert sustained == [5 + 15 - 1]


def test_webrtcvad_finds_synthetic_bursts_within_a_few_frames():
    rng = np.random.default_rng(1)

    def quiet(seconds: float) -> np.ndarray:
        return rng.normal(0, 0.0003, int(seconds * 16000))

    # Bursts at 0.5-1.5 s and 2.5-3.1 s (frames 25-74 and 125-154).
    signal = np.concatenate([quiet(0.5), speech_like(1.0), quiet(1.0), speech_like(0.6), quiet(1.0)])
    pcm = (signal * 32767).astype(np.int16)
    endpointer = VadEndpointer(VadOptions(aggressiveness=3), classifier=webrtc_classifier(3))
    events = []
    for index in range(len(pcm) // 320):
        events += endpointer.process(pcm[index * 320 : (index + 1) * 320].tobytes(), index * 0.02)
    starts = [e.index for e in events if isinstance(e, SpeechStarted)]
    ends = [e.last_voiced_index for e in events if isinstance(e, SpeechEnded)]
    assert len(starts) == 2 and len(ends) == 2
    # webrtcvad keeps a short hangover of its own, hence the wider tolerance on the ends.
    assert starts[0] == pytest.approx(25, abs=3) and starts[1] == pytest.approx(125, abs=3)
    assert ends[0] == pytest.approx(74, abs=8) and ends[1] == pytest.approx(154, abs=8)
