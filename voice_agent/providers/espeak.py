"""eSpeak NG through ``espeakng-loader``: the fallback voice, and the loopback client's candidate voice.

The library is driven with ctypes. It can be initialised only once per process (initialising again produced
garbage audio) and it is not thread-safe, so one process-wide engine serialises every synthesis behind a
lock and runs it on one dedicated thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import espeakng_loader
import numpy as np

from voice_agent.providers.base import PcmChunk

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_AUTO = 0
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


#: The eSpeak NG voice used unless another is asked for.
DEFAULT_VOICE = "en-us"


class EspeakEngine:
    """The process-wide eSpeak NG instance (use ``EspeakEngine.shared()``)."""

    _instance: EspeakEngine | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = int(self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0))
        if self.sample_rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._on_samples)  # kept referenced: the library calls it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")

    @classmethod
    def shared(cls) -> EspeakEngine:
        """The engine of this process, created on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_samples(self, wav: ctypes.Array, count: int, _events: int) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16, copy=True))
        return 0

    def synthesize(self, text: str, voice: str = DEFAULT_VOICE, rate_wpm: int = 165, pitch: int = 50) -> np.ndarray:
        """Speak ``text`` into int16 samples at ``sample_rate`` (blocking; thread-safe)."""
        encoded = text.encode("utf-8")
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice!r} (try 'en-us' or 'en')")
            self._lib.espeak_SetParameter(_ESPEAK_RATE, int(rate_wpm), 0)
            self._lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
            self._chunks = []
            self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, _ESPEAK_CHARS_AUTO, None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


class EspeakTextToSpeech:
    """eSpeak NG as a ``TextToSpeech`` provider (22.05 kHz, robotic but dependable and instant)."""

    name = "espeak"
    embedded = True

    def __init__(self, voice: str = DEFAULT_VOICE, rate_wpm: int = 165, pitch: int = 50) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pitch = pitch
        self._engine: EspeakEngine | None = None

    async def start(self) -> None:
        """Load the library and check the voice exists."""
        loop = asyncio.get_running_loop()
        self._engine = await loop.run_in_executor(None, EspeakEngine.shared)
        await self._run("ready")

    async def _run(self, text: str) -> np.ndarray:
        engine = self._engine or EspeakEngine.shared()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            engine.executor, engine.synthesize, text, self.voice, self.rate_wpm, self.pitch
        )

    async def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        """One chunk for the whole text (eSpeak synthesises a sentence in a few milliseconds)."""
        samples = await self._run(text)
        engine = self._engine or EspeakEngine.shared()
        if samples.size:
            yield PcmChunk(samples, engine.sample_rate)
