"""``Utterance``: one candidate utterance through speech-to-text, reporting through ``RecognitionHooks``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from voice_agent.providers.base import QueueSttStream, Transcript
from voice_agent.recognition import Utterance
from voice_agent.vad import SpeechEnded, SpeechStarted

FRAME = b"\x01\x00" * 320


class RecordingStream(QueueSttStream):
    """Keeps what it was given; answers ``finalize`` with ``final`` unless told to stay silent."""

    def __init__(self, final: str | None = "the final words") -> None:
        super().__init__()
        self.frames: list[tuple[bytes, bool]] = []
        self.paused = 0
        self.finalized = 0
        self.final = final

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        self.frames.append((pcm16k, is_speech))

    def pause(self) -> None:
        self.paused += 1

    async def finalize(self) -> None:
        self.finalized += 1
        if self.final is not None:
            self.emit(Transcript(self.final, is_final=True, speech_final=True))


class Hooks:
    """What the turn decisions were told."""

    def __init__(self) -> None:
        self.interims: list[str] = []
        self.finals: list[tuple[str, bool]] = []
        self.errors: list[str] = []

    def on_interim(self, utterance: Utterance, text: str) -> None:
        self.interims.append(text)

    def on_final(self, utterance: Utterance, text: str, speech_final: bool) -> None:
        self.finals.append((text, speech_final))

    def on_recognition_error(self, code: str, message: str) -> None:
        self.errors.append(code)


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def open_utterance(open_stream, hooks: Hooks, clock: Clock, preroll: int = 2) -> tuple[Utterance, set]:
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro):
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        return task

    started = SpeechStarted(index=5, time=clock.now, preroll=[FRAME] * preroll)
    utterance = Utterance(started, datetime.now(UTC), open_stream=open_stream, hooks=hooks, spawn=spawn)
    return utterance, tasks


async def test_audio_heard_before_the_stream_opened_reaches_it_first_and_in_order():
    stream = RecordingStream()
    opened = asyncio.Event()

    async def slow_open():
        await opened.wait()
        return stream

    hooks, clock = Hooks(), Clock()
    utterance, _ = open_utterance(slow_open, hooks, clock)
    utterance.push(b"a" * 640, True, now=10.02)
    utterance.push(b"b" * 640, False, now=10.04)
    utterance.pause(10.02)  # the pause hint is held for the stream too
    opened.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    utterance.push(b"c" * 640, True, now=10.1)
    assert [f for f, _ in stream.frames] == [FRAME, FRAME, b"a" * 640, b"b" * 640, b"c" * 640]
    assert [v for _, v in stream.frames] == [True, True, True, False, True]
    assert stream.paused == 1
    assert utterance.last_voiced_time == 10.1
    await utterance.aclose()


async def test_interims_are_reported_once_each_and_keep_their_freshness():
    stream = RecordingStream()

    async def open_stream():
        return stream

    hooks, clock = Hooks(), Clock()
    utterance, _ = open_utterance(open_stream, hooks, clock, preroll=0)
    await asyncio.sleep(0)
    for _ in range(50):  # 1 s of speech
        utterance.push(FRAME, True)
    stream.emit(Transcript("I would", is_final=False))
    stream.emit(Transcript("I would", is_final=False))
    await asyncio.sleep(0.01)
    assert hooks.interims == ["I would"]
    for _ in range(10):  # 0.2 s more speech, then the speech stops and 0.1 s of silence follows
        utterance.push(FRAME, True)
    for _ in range(5):
        utterance.push(FRAME, False)
    assert utterance.interim_is_fresh(silent_frames=5, freshness_s=0.3)  # heard 0.2 s before the end
    assert not utterance.interim_is_fresh(silent_frames=5, freshness_s=0.1)
    stream.emit(Transcript("I would", is_final=False))  # a repeat says the recogniser caught up as of now
    await asyncio.sleep(0.01)
    assert hooks.interims == ["I would"]
    assert utterance.interim_is_fresh(silent_frames=5, freshness_s=0.0)
    await utterance.aclose()


async def test_the_final_transcript_is_asked_for_and_reported():
    stream = RecordingStream("I would profile the slowest endpoint.")

    async def open_stream():
        return stream

    hooks, clock = Hooks(), Clock()
    utterance, _ = open_utterance(open_stream, hooks, clock)
    await asyncio.sleep(0)
    utterance.end(SpeechEnded(90, 11.8, 5, 64, 11.2, 55), "silence")  # frames 5..64 voiced
    heard = await utterance.transcript(timeout_s=5)
    assert (heard.text, heard.timed_out) == ("I would profile the slowest endpoint.", False)
    assert hooks.finals == [("I would profile the slowest endpoint.", True)]
    assert stream.finalized == 1
    assert round(utterance.speech_seconds, 2) == 1.2
    await utterance.aclose()


async def test_a_final_that_never_comes_falls_back_to_the_interim_after_the_timeout():
    stream = RecordingStream(final=None)

    async def open_stream():
        return stream

    hooks, clock = Hooks(), Clock()
    utterance, _ = open_utterance(open_stream, hooks, clock)
    await asyncio.sleep(0)
    stream.emit(Transcript("what was heard", is_final=False))
    await asyncio.sleep(0.01)
    heard = await utterance.transcript(timeout_s=0.05)
    assert (heard.text, heard.timed_out) == ("what was heard", True)
    await utterance.aclose()


async def test_a_stream_that_cannot_open_is_reported_and_yields_no_text():
    async def broken_open():
        raise ConnectionError("no recogniser")

    hooks, clock = Hooks(), Clock()
    utterance, tasks = open_utterance(broken_open, hooks, clock)
    await asyncio.gather(*tasks)
    assert hooks.errors == ["stt_failed"]
    heard = await utterance.transcript(timeout_s=1)
    assert (heard.text, heard.timed_out) == ("", False)
    await utterance.aclose()


async def test_the_stt_ending_the_speech_counts_it_to_the_last_voiced_frame():
    stream = RecordingStream()

    async def open_stream():
        return stream

    hooks, clock = Hooks(), Clock()
    utterance, _ = open_utterance(open_stream, hooks, clock)
    utterance.push(FRAME, True, now=10.98)
    utterance.end(SpeechEnded(60, 11.3, 5, 54, 10.98, 50), "stt")
    assert utterance.end_reason == "stt" and utterance.ended is not None
    assert utterance.ended.last_voiced_time == 10.98
    assert round(utterance.speech_seconds, 2) == 1.0
    await utterance.aclose()
