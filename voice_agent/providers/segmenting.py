"""An utterance stream for engines that transcribe whole pieces of audio (Whisper, OpenAI transcriptions).

The stream buffers what is pushed and decodes it in segments at the candidate's natural pauses while they are
still speaking, each segment primed with the text before it; at ``finalize`` only the last segment is left to
decode. Interims carry the text of the segments decoded so far; the final carries all of it.

A pause too short to cut a segment at (less speech than ``min_segment_s`` since the last cut) starts a
*provisional* decode of what is pending instead, when the engine is cheap enough to afford it (``provisional``):
its text arrives as an interim (the turn decisions read it: does the answer sound finished?) and, if no more
speech came before ``finalize``, it is the final's last segment, so the end of the turn waits for nothing. More
speech makes it stale: it is dropped and the audio is decoded again with what followed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import numpy as np

from voice_agent.providers.base import STT_SAMPLE_RATE, QueueSttStream, Transcript

log = logging.getLogger(__name__)


def _retrieve(task: asyncio.Task[str]) -> None:
    # A provisional decode nobody awaited (made stale, or the call closed) must not log "never retrieved".
    if not task.cancelled():
        task.exception()


class SegmentDecoder(Protocol):
    async def decode(self, audio: np.ndarray, prompt: str) -> str:
        """The text of float32 16 kHz mono ``audio``; ``prompt`` is the text said just before it."""
        ...


class SegmentingStream(QueueSttStream):
    """Decodes one utterance segment by segment, in order."""

    def __init__(
        self, decoder: SegmentDecoder, min_segment_s: float, max_segment_s: float, provisional: bool = False
    ) -> None:
        super().__init__()
        self._provisional_enabled = provisional
        #: The provisional decode of the pending audio: (speech samples pushed when it began, its task).
        self._provisional: tuple[int, asyncio.Task[str]] | None = None
        self._speech_total = 0
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
            self._speech_total += n
            self._drop_provisional()
        if self._samples >= self._max_samples:
            self._cut(final=False)

    def pause(self) -> None:
        if self._finalized:
            return
        if self._speech_samples >= self._min_samples:
            self._cut(final=False)
        elif self._provisional_enabled and self._speech_samples > 0 and self._provisional is None:
            audio = self._pending_audio()
            previous = self._last_decode
            task = asyncio.get_running_loop().create_task(self._decode_provisional(previous, audio))
            task.add_done_callback(_retrieve)
            self._provisional = (self._speech_total, task)

    async def finalize(self) -> None:
        if self._finalized:
            return
        self._finalized = True
        provisional, self._provisional = self._provisional, None
        if provisional is not None and provisional[0] == self._speech_total:
            # Nothing but silence since the provisional decode began: its text ends the utterance.
            audio = self._pending_audio()
            self._chunks, self._samples, self._speech_samples = [], 0, 0
            self._last_decode = asyncio.get_running_loop().create_task(self._finish_provisional(provisional[1], audio))
        else:
            if provisional is not None:
                provisional[1].cancel()
            self._cut(final=True)

    def _pending_audio(self) -> np.ndarray:
        return np.frombuffer(b"".join(self._chunks), np.int16).astype(np.float32) / 32768.0

    def _drop_provisional(self) -> None:
        if self._provisional is not None:
            self._provisional[1].cancel()
            self._provisional = None

    async def _decode_provisional(self, previous: asyncio.Task[None] | None, audio: np.ndarray) -> str:
        if previous is not None:
            await asyncio.shield(previous)
        text = await self._decoder.decode(audio, " ".join(self._texts)[-200:])
        if self._provisional is not None and self._provisional[0] == self._speech_total and text:
            self.emit(Transcript(" ".join([*self._texts, text]), is_final=False))
        return text

    async def _finish_provisional(self, provisional: asyncio.Task[str], audio: np.ndarray) -> None:
        try:
            text = await provisional
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("a provisional decode failed, decoding again: %s", exc.__class__.__name__)
            await self._decode_after(None, audio, final=True)
            return
        if text:
            self._texts.append(text)
        self.emit(Transcript(" ".join(self._texts), is_final=True))

    def _cut(self, final: bool) -> None:
        self._drop_provisional()
        audio = self._pending_audio() if self._speech_samples > 0 else None
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
        self._drop_provisional()
        if self._last_decode is not None and not self._last_decode.done():
            self._last_decode.cancel()
        await super().aclose()
