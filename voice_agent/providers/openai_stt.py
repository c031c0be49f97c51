"""OpenAI-compatible transcription (``audio.transcriptions``) through the official ``openai`` SDK: OpenAI itself
or a self-hosted Whisper server. Utterance-level, so it decodes in segments at the candidate's pauses, like the
embedded Whisper."""

from __future__ import annotations

import io
import wave

import numpy as np
from pydantic import BaseModel, Field, SecretStr

from voice_agent.providers.base import STT_SAMPLE_RATE, ProviderError, ProviderHealth
from voice_agent.providers.chat import failure_kind
from voice_agent.providers.openai_llm import openai_client
from voice_agent.providers.segmenting import SegmentingStream


class OpenAITranscriptionOptions(BaseModel):
    api_key: SecretStr | None = None
    base_url: str = ""
    model: str = "gpt-4o-mini-transcribe"
    language: str = "en"
    timeout_s: float = 15.0
    retries: int = 2
    min_segment_s: float = Field(1.5, description="shortest speech worth sending at a pause")
    max_segment_s: float = Field(25.0, description="longest speech kept before it is sent")


def wav_bytes(audio: np.ndarray, sample_rate: int = STT_SAMPLE_RATE) -> bytes:
    """Float32 mono audio as a 16-bit WAV file."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


class OpenAISpeechToText:
    """``SpeechToText`` backed by ``audio.transcriptions``."""

    name = "openai-stt"
    embedded = False
    streaming = False

    def __init__(self, options: OpenAITranscriptionOptions) -> None:
        if options.api_key is None and not options.base_url:
            raise ProviderError("stt", "OPENAI_API_KEY is not set (or point STT_BASE_URL at a local server)")
        self.options = options
        self.health = ProviderHealth()
        key = options.api_key.get_secret_value() if options.api_key else None
        self.client = openai_client(key, options.base_url, options.timeout_s, options.retries)

    async def decode(self, audio: np.ndarray, prompt: str) -> str:
        """One request for one segment; ``prompt`` carries the text before it."""
        o = self.options
        try:
            result = await self.client.audio.transcriptions.create(
                model=o.model,
                file=("utterance.wav", wav_bytes(audio), "audio/wav"),
                language=o.language,
                **({"prompt": prompt} if prompt else {}),
            )
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()
        return result.text.strip()

    async def open_stream(self) -> SegmentingStream:
        return SegmentingStream(self, self.options.min_segment_s, self.options.max_segment_s)
