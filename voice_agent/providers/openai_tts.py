"""OpenAI speech (or any server speaking the same API) through the official ``openai`` SDK: the agent's voice
as streamed 24 kHz PCM, sentence by sentence (the turn manager resamples it to 48 kHz)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from pydantic import BaseModel, Field, SecretStr

from voice_agent.providers.base import PcmChunk, ProviderError, ProviderHealth
from voice_agent.providers.chat import failure_kind
from voice_agent.providers.openai_llm import openai_client

PCM_RATE = 24_000


class OpenAISpeechOptions(BaseModel):
    api_key: SecretStr | None = None
    base_url: str = ""
    model: str = "gpt-4o-mini-tts"
    voice: str = "alloy"
    speed: float = 1.0
    timeout_s: float = Field(15.0, description="a request or a stalled stream fails after this long")
    retries: int = 2
    chunk_bytes: int = Field(4800, description="100 ms of 24 kHz 16-bit audio per chunk")


class OpenAITextToSpeech:
    """``TextToSpeech`` backed by ``audio.speech`` with ``response_format="pcm"``."""

    name = "openai-tts"
    embedded = False

    def __init__(self, options: OpenAISpeechOptions) -> None:
        if options.api_key is None and not options.base_url:
            raise ProviderError("tts", "OPENAI_API_KEY is not set (or point TTS_BASE_URL at a local server)")
        self.options = options
        self.health = ProviderHealth()
        key = options.api_key.get_secret_value() if options.api_key else None
        self.client = openai_client(key, options.base_url, options.timeout_s, options.retries)

    async def synthesize(self, text: str) -> AsyncIterator[PcmChunk]:
        """16-bit chunks at 24 kHz as they arrive (an odd byte is carried to the next chunk)."""
        o = self.options
        carry = b""
        try:
            async with self.client.audio.speech.with_streaming_response.create(
                model=o.model, voice=o.voice, input=text, response_format="pcm", speed=o.speed
            ) as response:
                async for data in response.iter_bytes(chunk_size=o.chunk_bytes):
                    data = carry + data
                    usable = len(data) - len(data) % 2
                    carry = data[usable:]
                    if usable:
                        yield PcmChunk(np.frombuffer(data[:usable], "<i2").astype(np.int16), PCM_RATE)
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()
