"""``SegmentingStream``: decoding at pauses, and the provisional decode that makes the final ready early."""

from __future__ import annotations

import asyncio

import numpy as np

from voice_agent.providers.base import Transcript
from voice_agent.providers.segmenting import SegmentingStream

SPEECH = (np.full(320, 1000, np.int16)).tobytes()  # 20 ms at 16 kHz
SILENCE = np.zeros(320, np.int16).tobytes()


class CountingDecoder:
    """Says how many seconds of audio it was given, and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str]] = []

    async def decode(self, audio: np.ndarray, prompt: str) -> str:
        self.requests.append((len(audio) / 16000, prompt))
        await asyncio.sleep(0)
        return f"{len(audio) / 16000:.2f} seconds"


def feed(stream: SegmentingStream, frames: bytes, seconds: float, is_speech: bool) -> None:
    for _ in range(round(seconds / 0.02)):
        stream.push(frames, is_speech)


async def results(stream: SegmentingStream) -> list[Transcript]:
    got = []
    async for result in stream:
        got.append(result)
        if result.is_final:
            break
    return got


async def test_a_short_answer_is_decoded_at_the_pause_and_the_final_reuses_it():
    decoder = CountingDecoder()
    stream = SegmentingStream(decoder, min_segment_s=1.5, max_segment_s=18, provisional=True)
    feed(stream, SPEECH, 0.8, True)
    feed(stream, SILENCE, 0.2, False)
    stream.pause()
    await asyncio.sleep(0.01)
    feed(stream, SILENCE, 0.3, False)  # the pause goes on: nothing new to decode
    await stream.finalize()
    got = await results(stream)
    assert [(r.text, r.is_final) for r in got] == [("1.00 seconds", False), ("1.00 seconds", True)]
    assert len(decoder.requests) == 1


async def test_speech_after_the_provisional_decode_makes_it_stale():
    decoder = CountingDecoder()
    stream = SegmentingStream(decoder, min_segment_s=1.5, max_segment_s=18, provisional=True)
    feed(stream, SPEECH, 0.8, True)
    feed(stream, SILENCE, 0.2, False)
    stream.pause()
    await asyncio.sleep(0.01)
    feed(stream, SPEECH, 0.4, True)  # the candidate goes on
    feed(stream, SILENCE, 0.2, False)
    await stream.finalize()
    got = await results(stream)
    assert got[-1].is_final and got[-1].text == "1.60 seconds"  # all of it, decoded again
    assert [seconds for seconds, _ in decoder.requests] == [1.0, 1.6]


async def test_without_provisional_decoding_a_short_pause_decodes_nothing():
    decoder = CountingDecoder()
    stream = SegmentingStream(decoder, min_segment_s=1.5, max_segment_s=18)
    feed(stream, SPEECH, 0.8, True)
    stream.pause()
    await asyncio.sleep(0.01)
    assert decoder.requests == []
    await stream.finalize()
    assert (await results(stream))[-1].text == "0.80 seconds"


async def test_a_long_stretch_is_cut_at_the_pause_and_the_final_only_decodes_the_rest():
    decoder = CountingDecoder()
    stream = SegmentingStream(decoder, min_segment_s=1.5, max_segment_s=18, provisional=True)
    feed(stream, SPEECH, 2.0, True)
    stream.pause()
    feed(stream, SPEECH, 0.5, True)
    await stream.finalize()
    got = await results(stream)
    assert got[-1].text == "2.00 seconds 0.50 seconds"
    assert decoder.requests == [(2.0, ""), (0.5, "2.00 seconds")]
