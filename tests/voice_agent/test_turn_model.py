"""The acoustic end-of-turn model: its file is found and loads, it hears a finished and an unfinished answer,
and it thinks off the event loop.

The examples come from benchmarks/turn_model_scores.py (hibari, 200 ms of silence after the speech, three
takes each, two runs): "I would start by profiling the slowest endpoint." scored 0.986-0.988, "I would start
by" on its own 0.027-0.086; the thresholds are 0.8 and 0.5. (Neither voice gives the very same samples twice,
so the examples are ones far from both thresholds.)
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from benchmarks.turn_model_scores import hibari_voice, with_pause
from voice_agent.providers.hibari_tts import HibariTextToSpeech
from voice_agent.turn_model import (
    SMART_TURN_FILE,
    EndOfTurnModelMissing,
    SmartTurnModel,
    locate_smart_turn_model,
)
from voice_agent.turn_options import TurnOptions

COMPLETE = "I would start by profiling the slowest endpoint."
UNFINISHED = "I would start by"


@pytest.fixture(scope="module")
async def model() -> SmartTurnModel:
    model = SmartTurnModel()
    await model.start()
    yield model
    await model.aclose()


@pytest.fixture(scope="module")
async def hibari() -> HibariTextToSpeech:
    tts = HibariTextToSpeech()
    await tts.start()
    yield tts
    await tts.aclose()


def test_the_model_file_is_found_in_the_installed_wheel():
    path = locate_smart_turn_model()
    assert path.name == "smart-turn-v3.2-cpu.onnx"
    assert path.stat().st_size == 8_679_182


async def test_a_finished_answer_sounds_finished_and_a_cut_one_unfinished(model, hibari):
    options = TurnOptions()
    say = hibari_voice(hibari)
    complete = await model.probability(with_pause(await say(COMPLETE)))
    unfinished = await model.probability(with_pause(await say(UNFINISHED)))
    assert complete >= options.turn_model_complete_at
    assert unfinished < options.turn_model_unfinished_below


async def test_int16_samples_score_as_their_float_equivalent(model, hibari):
    audio = with_pause(await hibari_voice(hibari)(COMPLETE))
    as_int16 = (audio * 32768).clip(-32768, 32767).astype(np.int16)
    assert await model.probability(as_int16) == pytest.approx(await model.probability(audio), abs=0.02)


async def test_the_event_loop_keeps_running_while_the_model_scores(model):
    audio = np.random.default_rng(1).standard_normal(8 * 16000).astype(np.float32) * 0.1
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.001)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    started = time.monotonic()
    for _ in range(3):
        await model.probability(audio)
    finished = time.monotonic()
    ticker.cancel()
    # Had the inference run on the loop, the ticker could only have run between the three decisions.
    assert sum(started < t < finished for t in ticks) > 6


async def test_a_missing_model_file_names_the_fix():
    model = SmartTurnModel(distribution="no-such-distribution-for-smart-turn")
    with pytest.raises(EndOfTurnModelMissing, match=r"pip install --no-deps pipecat-ai==1\.14\.0"):
        await model.start()
    await model.aclose()


def test_a_wheel_without_the_file_names_the_fix():
    with pytest.raises(EndOfTurnModelMissing, match=r"pip install --no-deps pipecat-ai==1\.14\.0"):
        locate_smart_turn_model(file=SMART_TURN_FILE.replace(".onnx", "-missing.onnx"))


async def test_a_closed_model_refuses_to_score():
    model = SmartTurnModel()
    await model.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await model.probability(np.zeros(16000, np.float32))
