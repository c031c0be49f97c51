"""An utterance stream for engines that transcribe whole pieces of audio (Whisper, OpenAI transcriptions).

The stream buffers what is pushed and decodes it in segments at the candidate's natural pauses while they are
still speaking, each segment primed with the text before it; at ``finalize`` only the last segment is left to
decode. Interims carry the text of the segments decoded so far; the final carries all of it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import numpy as np

from voice_agent.providers.base import STT_SAMPLE_RATE, QueueSttStream, Transcript

log = logging.getLogger(__name__)


class SegmentDecoder(Protocol):
    async def decode(self, audio: np.ndarray, prompt: str) -> str:
        """The text of float32 16 kHz mono ``audio``; ``prompt`` is the text said just before it."""
        ...


class SegmentingStream(QueueSttStream):
    """Decodes one utterance segment by segment, in order."""

    def __init__(self, decoder: SegmentDecoder, min_segment_s: float, max_segment_s: float) -> None:
        super().__init__()
        self._decoder = decoder
        self._min_samples = int(min_segment_s * STT_SAMPLE_RATE)
        self._max_samples = int(max_segment_s * STT_SAMPLE_RATE)
        self._chunks: list[bytes] = []
        self._samples = 0
        self._speech_samples = 0
        self._texts: list[str] = []
        self._last_decode: asyncio.Task[None] | None = None
        self._finalized = False
        #: Set when a segment could not be decoded (the final then says what the rest did).
        self.failures = 0

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        if self._finalized:
            return
        self._chunks.append(pcm16k)
        n = len(pcm16k) // 2
        self._samples += n
        if is_speech:
            self._speech_samples += n
        if self._samples >= self._max_samples:
            self._cut(final=False)

    def pause(self) -> None:
        if self._speech_samples >= self._min_samples:
            self._cut(final=False)

    async def finalize(self) -> None:
        if not self._finalized:
            self._finalized = True
            self._cut(final=True)

    def _cut(self, final: bool) -> None:
        audio = None
        if self._speech_samples > 0:
            pcm = np.frombuffer(b"".join(self._chunks), np.int16)
            audio = pcm.astype(np.float32) / 32768.0
        self._chunks, self._samples, self._speech_samples = [], 0, 0
        previous = self._last_decode
        self._last_decode = asyncio.get_running_loop().create_task(self._decode_after(previous, audio, final))

    async def _decode_after(self, previous: asyncio.Task[None] | None, audio: np.ndarray | None, final: bool) -> None:
        # Segments are decoded in order, each primed with the text before it.
        if previous is not None:
            await asyncio.shield(previous)
        if audio is not None:
            try:
                text = await self._decoder.decode(audio, " ".join(self._texts)[-200:])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("a speech segment could not be transcribed: %s", exc.__class__.__name__)
                self.failures += 1
                text = ""
            if text:
                self._texts.append(text)
        self.emit(Transcript(" ".join(self._texts), is_final=final))

    async def aclose(self) -> None:
        if self._last_decode is not None and not self._last_decode.done():
            self._last_decode.cancel()
        await super().aclose()
