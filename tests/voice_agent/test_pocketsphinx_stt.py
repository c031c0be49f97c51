"""pocketsphinx streaming STT: transcripts, isolation of streams, the worker process and the event loop.

Speech is synthesized at test time with eSpeak NG. pocketsphinx hears eSpeak badly, so
the sentences are ones it recognises at least partly (numbers, "yes"), and the assertions on text are loose:
a final that shares a word with what was said.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voice_agent.audio import PcmResampler
from voice_agent.providers.base import SpeechToText, SttStream, Transcript
from voice_agent.providers.espeak import EspeakEngine
from voice_agent.providers.pocketsphinx_stt import PocketsphinxSpeechToText


@functools.cache
def speak(text: str, pad_ms: int = 250) -> bytes:
    """``text`` spoken by eSpeak NG (the process-wide engine: it can be initialised only once per process) as
    16 kHz mono s16 PCM, with ``pad_ms`` of silence on both sides."""
    engine = EspeakEngine.shared()
    samples = engine.synthesize(text, voice="en-us", rate_wpm=175)
    resampler = PcmResampler(16000)
    pcm = np.concatenate([resampler.resample(samples, engine.sample_rate), resampler.flush()]).tobytes()
    pad = bytes(pad_ms * 32)
    return pad + pcm + pad


NUMBERS = "one two three four five six seven eight nine ten"
NUMBER_WORDS = set(NUMBERS.split())
LONG_ANSWER = (
    "In my last job I worked on the payments team for three years. We moved a large monolith to a set of "
    "small services, and I was responsible for the database migration. The hardest part was keeping two "
    "copies of the data in sync while both systems were live, so we wrote a change data capture pipeline "
    "and compared the results every night before switching the traffic over."
)
FRAME = 640  # 20 ms at 16 kHz


def words(text: str) -> set[str]:
    """Lower-case words of ``text``."""
    return set(text.lower().split())


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def stt() -> AsyncIterator[PocketsphinxSpeechToText]:
    """One provider shared by the tests that do not kill or close it."""
    provider = PocketsphinxSpeechToText()
    await provider.start()
    yield provider
    await provider.aclose()


class Collector:
    """Drains a stream in the background and records what it yields."""

    def __init__(self, stream: SttStream) -> None:
        self.stream = stream
        self.items: list[Transcript] = []
        self.final_seen = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for transcript in self.stream:
            self.items.append(transcript)
            if transcript.is_final:
                self.final_seen.set()

    @property
    def interims(self) -> list[Transcript]:
        return [t for t in self.items if not t.is_final]

    @property
    def finals(self) -> list[Transcript]:
        return [t for t in self.items if t.is_final]

    async def wait_final(self, timeout: float = 30.0) -> Transcript:
        """Wait for the first final transcript."""
        await asyncio.wait_for(self.final_seen.wait(), timeout)
        return self.finals[0]

    async def close(self, settle: float = 0.3) -> None:
        """Give late results a moment to show up, then close the stream and wait for iteration to end."""
        await asyncio.sleep(settle)
        await self.stream.aclose()
        await asyncio.wait_for(self.task, 5)


async def push_audio(stream: SttStream, pcm: bytes, speed: float = 10.0) -> None:
    """Push ``pcm`` in 20 ms frames, ``speed`` times faster than real time, yielding to the loop."""
    per_tick = 5  # 100 ms of audio, then a pause of 100 ms / speed
    for start in range(0, len(pcm), FRAME * per_tick):
        block = pcm[start : start + FRAME * per_tick]
        for i in range(0, len(block), FRAME):
            stream.push(block[i : i + FRAME])
        await asyncio.sleep(0.1 / speed)


async def transcribe(stt: SpeechToText, pcm: bytes) -> Collector:
    """Open a stream, push ``pcm``, finalize, wait for the final and close the stream."""
    stream = await stt.open_stream()
    collector = Collector(stream)
    await push_audio(stream, pcm)
    await stream.finalize()
    await collector.wait_final()
    await collector.close()
    return collector


def process_gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this id."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def worker_threads() -> set[threading.Thread]:
    """The live threads that talk to pocketsphinx workers."""
    return {t for t in threading.enumerate() if t.name.startswith("pocketsphinx-stt")}


# --------------------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------------------


def test_implements_protocol() -> None:
    assert isinstance(PocketsphinxSpeechToText(), SpeechToText)
    assert PocketsphinxSpeechToText.name == "pocketsphinx"


async def test_spoken_sentence_gives_interims_then_one_final(stt: PocketsphinxSpeechToText) -> None:
    stream = await stt.open_stream()
    assert isinstance(stream, SttStream)
    collector = Collector(stream)
    await push_audio(stream, speak(NUMBERS))
    await stream.finalize()
    final = await collector.wait_final()
    await collector.close()

    assert len(collector.interims) >= 1
    assert len(collector.finals) == 1
    assert collector.items[-1] is final  # the final comes last
    assert all(t.text for t in collector.interims)
    # only changed text is reported
    texts = [t.text for t in collector.interims]
    assert all(a != b for a, b in itertools.pairwise(texts))
    assert final.text
    assert words(final.text) & NUMBER_WORDS, final.text


async def test_silence_gives_an_empty_final(stt: PocketsphinxSpeechToText) -> None:
    collector = await transcribe(stt, bytes(2 * 16000 * 2))
    assert [t.text for t in collector.finals] == [""]
    assert collector.interims == []


async def test_finalize_without_audio_gives_an_empty_final(stt: PocketsphinxSpeechToText) -> None:
    stream = await stt.open_stream()
    collector = Collector(stream)
    await stream.finalize()
    assert (await collector.wait_final(10)).text == ""
    await collector.close()


async def test_aclose_ends_iteration(stt: PocketsphinxSpeechToText) -> None:
    stream = await stt.open_stream()
    collector = Collector(stream)
    stream.push(speak("yes yes yes")[: 16000 * 2])
    stream.pause()  # a no-op
    await stream.aclose()
    # Iteration ends, cleanly, without a final: the utterance was dropped, not finalized.
    await asyncio.wait_for(collector.task, 5)
    assert collector.task.exception() is None
    assert collector.finals == [] and all(not t.is_final for t in collector.items)
    # And nothing comes after the end: audio and ``finalize()`` on a closed stream are ignored.
    stream.push(speak("yes yes yes"))
    await stream.finalize()
    late = asyncio.create_task(anext(aiter(stream), None))
    await asyncio.sleep(0.5)
    assert not late.done(), late.result()
    late.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await late


async def test_three_concurrent_streams_do_not_mix(stt: PocketsphinxSpeechToText) -> None:
    numbers = speak(NUMBERS)
    yeses = speak("yes yes yes")
    sources = [numbers, yeses.ljust(len(numbers), b"\0"), bytes(len(numbers))]
    streams = [await stt.open_stream() for _ in sources]
    collectors = [Collector(stream) for stream in streams]
    for start in range(0, len(numbers), FRAME):  # interleaved, frame by frame
        for stream, pcm in zip(streams, sources, strict=True):
            stream.push(pcm[start : start + FRAME])
        if start % (FRAME * 5) == 0:
            await asyncio.sleep(0.005)
    await asyncio.gather(*(stream.finalize() for stream in streams))
    finals = await asyncio.gather(*(c.wait_final() for c in collectors))
    await asyncio.gather(*(c.close() for c in collectors))

    heard_numbers, heard_yes, heard_silence = (words(f.text) for f in finals)
    assert heard_numbers & NUMBER_WORDS and "yes" not in heard_numbers, finals[0].text
    assert "yes" in heard_yes and not heard_yes & NUMBER_WORDS, finals[1].text
    assert heard_silence == set() and collectors[2].interims == []
    assert [len(c.finals) for c in collectors] == [1, 1, 1]


async def test_utterances_in_sequence_on_one_stream(stt: PocketsphinxSpeechToText) -> None:
    """Audio after a final starts a new utterance: each finalize gives its own final."""
    stream = await stt.open_stream()
    collector = Collector(stream)
    await push_audio(stream, speak(NUMBERS))
    await stream.finalize()
    await collector.wait_final()
    collector.final_seen.clear()
    await push_audio(stream, bytes(16000))
    await stream.finalize()
    await asyncio.wait_for(collector.final_seen.wait(), 30)
    await collector.close()
    assert len(collector.finals) == 2
    assert words(collector.finals[0].text) & NUMBER_WORDS
    assert collector.finals[1].text == ""


async def test_event_loop_never_stalls_while_decoding(stt: PocketsphinxSpeechToText) -> None:
    """The key property: pocketsphinx holds the GIL, so it must decode out of process."""
    speech = speak(LONG_ANSWER)
    assert len(speech) >= 20 * 16000 * 2
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.01)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    stream = await stt.open_stream()
    collector = Collector(stream)
    await push_audio(stream, speech, speed=20.0)
    await stream.finalize()
    final = await collector.wait_final(120)
    elapsed = time.perf_counter() - started
    running = False
    await tick
    await collector.close()

    assert final.text
    assert len(collector.interims) >= 5
    assert elapsed > 0.5  # there was decoding to wait for
    assert worst < 0.05, f"event loop stalled {worst * 1000:.0f} ms"


async def test_closing_the_provider_leaves_no_child_process() -> None:
    threads_before = worker_threads()
    provider = PocketsphinxSpeechToText()
    await provider.start()
    pid = provider.worker_pid
    assert pid is not None and not process_gone(pid)
    assert len(worker_threads() - threads_before) == 2  # its reader and sender
    stream = await provider.open_stream()
    collector = Collector(stream)
    stream.push(speak("yes yes yes"))
    await stream.finalize()
    await provider.aclose()
    # the stream was waiting for its final: it gets one (from the worker or, if it stopped first, the last
    # interim) rather than hanging
    await collector.wait_final(5)
    await stream.aclose()
    await asyncio.wait_for(collector.task, 5)
    assert len(collector.finals) == 1
    assert process_gone(pid)
    assert not [p for p in multiprocessing.active_children() if p.pid == pid]
    assert provider.worker_pid is None
    assert worker_threads() <= threads_before
    await provider.aclose()  # twice is fine


async def test_killed_worker_gives_final_with_last_interim_and_restarts() -> None:
    provider = PocketsphinxSpeechToText()
    try:
        stream = await provider.open_stream()  # starts the worker on demand
        collector = Collector(stream)
        await push_audio(stream, speak(NUMBERS))
        for _ in range(200):
            if collector.interims:
                break
            await asyncio.sleep(0.05)
        assert collector.interims
        last_heard = collector.interims[-1].text
        pid = provider.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        stream.push(bytes(FRAME))  # dropped
        await stream.finalize()
        final = await collector.wait_final(5)
        await asyncio.wait_for(collector.task, 5)  # iteration ends after the final
        assert final.text == collector.interims[-1].text == last_heard
        assert len(collector.finals) == 1
        assert process_gone(pid)

        # the next stream restarts the worker
        again = await transcribe(provider, speak(NUMBERS))
        assert provider.worker_pid not in (None, pid)
        assert words(again.finals[0].text) & NUMBER_WORDS
    finally:
        await provider.aclose()


async def test_killed_worker_while_final_is_pending_does_not_hang() -> None:
    provider = PocketsphinxSpeechToText()
    try:
        await provider.start()
        stream = await provider.open_stream()
        silent = await provider.open_stream()
        collector, silent_collector = Collector(stream), Collector(silent)
        speech = speak(LONG_ANSWER)
        for start in range(0, len(speech), FRAME):
            stream.push(speech[start : start + FRAME])
        await stream.finalize()  # the worker has seconds of audio to decode before it can answer
        await silent.finalize()
        await asyncio.sleep(0.3)
        pid = provider.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        final = await collector.wait_final(5)
        await asyncio.wait_for(collector.task, 5)
        assert len(collector.finals) == 1
        assert final.text == (collector.interims[-1].text if collector.interims else "")
        assert (await silent_collector.wait_final(5)).text == ""
        await asyncio.wait_for(silent_collector.task, 5)
    finally:
        await provider.aclose()
