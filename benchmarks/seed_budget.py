"""Benchmark-only providers that behave like the seed's cloud budget (they live here, not in the product; the
server loads them by import path: ``STT_PROVIDER=benchmarks.seed_budget:stt`` and so on).

- STT: an interim transcript every 100 ms of speech with the words so far; the final 250 ms after the end of
  speech (ending the turn, as Deepgram's endpointing does); in one turn out of five the final differs from the
  last interim by a word, so an early reply must sometimes be thrown away. What each answer "says" is fixed in
  ``ANSWERS`` (the benchmark speaks exactly these).
- LLM: the first token 800 ms after the request, then 40 tokens a second; the words are the scripted
  interviewer's, so the interview flows as a real one.
- TTS: the first audio 300 ms after the request, then faster than real time (eSpeak NG's real speech, sent at
  four times real time).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from voice_agent.providers.base import (
    STT_SAMPLE_RATE,
    FaultReporter,
    LlmUsage,
    PcmChunk,
    ProviderError,
    QueueSttStream,
    ReplyRequest,
    Transcript,
)
from voice_agent.providers.espeak import EspeakEngine
from voice_agent.providers.scripted import ScriptedInterviewer

#: The candidate's answers, in the order the benchmark speaks them (the same text is what the STT "hears").
ANSWERS = [
    "I led the migration of our billing system to Kubernetes last year",
    "We cut deploy time from an hour to five minutes with a new pipeline",
    "My favourite project was a weather station built with a Raspberry Pi",
    "I would use a queue and retry failed payments with exponential backoff",
    "The database was slow so I added an index and a small cache in front of it",
    "I resolved the conflict by meeting each engineer and agreeing on a plan together",
    "Our team shipped a mobile banking app to two million customers in six months",
    "I mentor three junior developers and we review code together every week",
    "I wrote the design document and reviewed it with the finance team before launch",
    "Looking back I would have added better dashboards earlier in the project",
]
#: Every fifth final differs from the last interim by one word.
CHANGED_FINAL_EVERY = 5
INTERIM_EVERY_S = 0.1
FINAL_AFTER_S = 0.25
WORDS_PER_SECOND = 2.8
LLM_FIRST_TOKEN_S = 0.8
LLM_TOKENS_PER_S = 40.0
TTS_FIRST_AUDIO_S = 0.3
TTS_SPEED = 4.0
FRAME_S = 0.02


class SeedBudgetCall:
    """The STT of one call: utterances take the answers in order."""

    def __init__(self) -> None:
        self.turn = 0

    async def open_stream(self) -> SeedBudgetStream:
        text = ANSWERS[self.turn % len(ANSWERS)]
        self.turn += 1
        return SeedBudgetStream(text, change_final=self.turn % CHANGED_FINAL_EVERY == 0)

    async def aclose(self) -> None:
        return None


class SeedBudgetStream(QueueSttStream):
    """Interims while speech is pushed; the final ``FINAL_AFTER_S`` after the speech ends."""

    def __init__(self, text: str, change_final: bool) -> None:
        super().__init__()
        self.words = text.split()
        self.change_final = change_final
        self.speech_s = 0.0
        self.since_interim = 0.0
        self.last_interim = ""
        self.silence_s = 0.0
        self.done = False
        self._final_timer: asyncio.TimerHandle | None = None

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        if self.done:
            return
        seconds = len(pcm16k) / 2 / STT_SAMPLE_RATE
        if is_speech:
            self.speech_s += seconds
            self.since_interim += seconds
            self.silence_s = 0.0
            if self._final_timer is not None:
                self._final_timer.cancel()
                self._final_timer = None
            if self.since_interim >= INTERIM_EVERY_S:
                self.since_interim = 0.0
                # The words so far, as far as the speech time says (the last one comes when the speech stops).
                heard = max(1, min(len(self.words) - 1, int(self.speech_s * WORDS_PER_SECOND)))
                heard = max(heard, len(self.last_interim.split()))  # never fewer words than already shown
                self._interim(" ".join(self.words[:heard]))
        else:
            if self.silence_s == 0.0 and self.speech_s > 0 and self.last_interim != " ".join(self.words):
                # The speech stopped: by now the recogniser has caught up with every word said.
                self._interim(" ".join(self.words))
            self.silence_s += seconds
            if self.speech_s > 0 and self._final_timer is None:
                # The end of speech: the final comes FINAL_AFTER_S later, on the wall clock.
                delay = max(0.0, FINAL_AFTER_S - self.silence_s)
                self._final_timer = asyncio.get_running_loop().call_later(delay, self._final, True)

    def _interim(self, text: str) -> None:
        self.last_interim = text
        self.emit(Transcript(text, is_final=False))

    def _final(self, speech_final: bool) -> None:
        if self.done:
            return
        self.done = True
        words = list(self.words)
        if self.change_final:
            words[-1] = "today" if words[-1] != "today" else "now"
        self.emit(Transcript(" ".join(words), is_final=True, speech_final=speech_final))

    async def finalize(self) -> None:
        if not self.done and self._final_timer is None:
            self._final_timer = asyncio.get_running_loop().call_later(FINAL_AFTER_S, self._final, False)

    async def aclose(self) -> None:
        if self._final_timer is not None:
            self._final_timer.cancel()
        self.done = True
        await super().aclose()


class SeedBudgetSpeechToText:
    name = "seed-budget-stt"
    embedded = False
    streaming = True

    async def open_call(self, on_fault: FaultReporter | None = None) -> SeedBudgetCall:
        return SeedBudgetCall()

    async def open_stream(self) -> SeedBudgetStream:
        return await SeedBudgetCall().open_stream()


class SeedBudgetLanguageModel:
    """The scripted interviewer's words, with a cloud model's timing."""

    name = "seed-budget-llm"
    embedded = False
    writes_json = True

    def __init__(self) -> None:
        self._words = ScriptedInterviewer()

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        text = self._words.compose_reply(request)
        tokens = re.findall(r"\S+\s*", text)
        start = time.monotonic()
        await asyncio.sleep(LLM_FIRST_TOKEN_S)
        for index, token in enumerate(tokens):
            due = start + LLM_FIRST_TOKEN_S + index / LLM_TOKENS_PER_S
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield token
        if usage is not None:
            usage.output_tokens += len(tokens)

    async def complete_json(self, system: str, messages: list[Any], schema: dict[str, Any]) -> dict[str, Any]:
        raise ProviderError("llm", "the benchmark model writes no feedback")


class SeedBudgetTextToSpeech:
    """eSpeak NG speech, the first chunk after 300 ms, the rest at four times real time."""

    name = "seed-budget-tts"
    embedded = False

    def __init__(self) -> None:
        self._engine = EspeakEngine.shared()

    async def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        start = time.monotonic()
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(self._engine.executor, self._engine.synthesize, text)
        rate = self._engine.sample_rate
        chunk = int(rate * 0.2)
        for index, offset in enumerate(range(0, len(samples), chunk)):
            due = start + TTS_FIRST_AUDIO_S + index * 0.2 / TTS_SPEED
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield PcmChunk(np.ascontiguousarray(samples[offset : offset + chunk]), rate)


def stt(config: Any) -> SeedBudgetSpeechToText:
    return SeedBudgetSpeechToText()


def llm(config: Any) -> SeedBudgetLanguageModel:
    return SeedBudgetLanguageModel()


def tts(config: Any) -> SeedBudgetTextToSpeech:
    return SeedBudgetTextToSpeech()
