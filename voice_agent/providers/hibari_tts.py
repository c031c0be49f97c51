"""``hibari-tts``: the agent's embedded neural voice (24 kHz, about 100 times faster than real time).

onnxruntime releases the GIL, so synthesis runs on worker threads without stalling the event loop. Each
worker thread holds its own model instance (7.9 MB), so calls on different threads never share one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from voice_agent.providers.base import PcmChunk

#: The voice shipped in the package (the others download on first use, which an offline server cannot).
DEFAULT_VOICE = "heart"


class HibariTextToSpeech:
    """The embedded default voice."""

    name = "hibari"
    embedded = True

    def __init__(self, voice: str = DEFAULT_VOICE, speed: float = 1.0, workers: int = 1) -> None:
        self.voice = voice
        self.speed = speed
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hibari")
        self._local = threading.local()
        self.sample_rate = 24_000

    def _model(self) -> Any:
        model = getattr(self._local, "model", None)
        if model is None:
            from hibari import Hibari  # on first use (the voice is loaded per worker thread)
            from hibari.voices import voice_path

            try:
                path = voice_path(self.voice, download_missing=False)
            except FileNotFoundError as exc:
                raise RuntimeError(
                    f"hibari voice {self.voice!r} is not in the package nor cached; "
                    f"the offline voice is {DEFAULT_VOICE!r}"
                ) from exc
            model = self._local.model = Hibari(voice=self.voice, model=path, threads=1)
        return model

    def _synth_sentences(self, text: str) -> list[Any]:
        model = self._model()
        return [model.from_ids(model.ids(ps), self.speed) for ps in model.phonemize(text)]

    async def start(self) -> None:
        """Load the model and its pronunciation dictionary on every worker (the first sentence costs ~0.7 s)."""
        loop = asyncio.get_running_loop()
        workers = self._executor._max_workers
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, self._synth_sentences, "Ready.") for _ in range(workers))
        )

    async def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        """Float32 chunks at 24 kHz, one per sentence or clause of ``text`` (the turn manager already hands
        over one sentence at a time, so the whole text is synthesised in one go on one worker)."""
        loop = asyncio.get_running_loop()
        for samples in await loop.run_in_executor(self._executor, self._synth_sentences, text):
            if samples.size:
                yield PcmChunk(samples, self.sample_rate)

    async def aclose(self) -> None:
        """Stop the worker threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
