"""The embedded Whisper: decoding in segments at pauses, the short encoder window, silence."""

from __future__ import annotations

import difflib
import re

import numpy as np
import pytest

from benchmarks.stt_hearing import through_opus, to_16k_float
from signaling.client.audio import speak
from voice_agent.providers.whisper_stt import WhisperOptions, WhisperSpeechToText


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
async def whisper() -> WhisperSpeechToText:
    stt = WhisperSpeechToText()
    await stt.start()
    yield stt
    await stt.aclose()


def pcm16k(text: str) -> np.ndarray:
    return (to_16k_float(through_opus(speak(text))) * 32767).astype(np.int16)


async def push_frames(stream, pcm: np.ndarray, is_speech: bool = True) -> None:
    for i in range(0, len(pcm) - 319, 320):
        stream.push(pcm[i : i + 320].tobytes(), is_speech)


async def test_an_answer_is_decoded_at_its_pause_and_only_the_rest_at_the_end(whisper):
    stream = await whisper.open_stream()
    await push_frames(stream, pcm16k("My favourite project was a weather station built with a Raspberry Pi"))
    stream.pause()  # the candidate paused: the first part is decoded while they go on
    await push_frames(stream, pcm16k("The database was slow, so I added an index and a cache"))
    await stream.finalize()
    results = [t async for t in _until_final(stream)]
    interim, final = results[0], results[-1]
    # Thresholds as in the call tests (benchmarks/stt_hearing.py): two of three distinctive words.
    assert not interim.is_final and len({"weather", "station", "raspberry"} & set(words(interim.text))) >= 2
    assert final.is_final and final.text.startswith(interim.text)
    assert len({"database", "index", "cache"} & set(words(final.text[len(interim.text) :]))) >= 2
    await stream.aclose()


async def test_silence_gives_an_empty_final_without_decoding(whisper):
    stream = await whisper.open_stream()
    await push_frames(stream, np.zeros(16000, np.int16), is_speech=False)
    await stream.finalize()
    results = [t async for t in _until_final(stream)]
    assert [(t.text, t.is_final) for t in results] == [("", True)]


async def test_the_20_second_window_hears_what_the_standard_30_second_window_hears(whisper):
    standard = WhisperSpeechToText(WhisperOptions(window_s=30))
    await standard.start()
    audio = to_16k_float(through_opus(speak("The database was slow, so I added an index and a cache")))
    short, full = await whisper.decode(audio, ""), await standard.decode(audio, "")
    await standard.aclose()
    # The same sentence, give or take a small word or a split one ("database", "day the base"): Whisper's beams
    # differ slightly with the window, so compare the letters.
    letters = [re.sub("[^a-z]", "", text.lower()) for text in (short, full)]
    assert difflib.SequenceMatcher(None, *letters).ratio() > 0.8, (short, full)
    keys = {"database", "index", "cache"}
    assert len(keys & set(words(short))) >= 2 and len(keys & set(words(full))) >= 2, (short, full)


async def _until_final(stream):
    async for transcript in stream:
        yield transcript
        if transcript.is_final:
            return
