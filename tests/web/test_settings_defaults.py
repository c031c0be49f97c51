"""A default is written once: the ``Settings`` fields that configure a provider default to its own option."""

from __future__ import annotations

from voice_agent.providers import anthropic_llm, openai_llm
from voice_agent.providers.chat import ChatOptions
from voice_agent.providers.deepgram_stt import DeepgramOptions
from voice_agent.providers.hibari_tts import HibariTextToSpeech
from voice_agent.providers.openai_stt import OpenAITranscriptionOptions
from voice_agent.providers.openai_tts import OpenAISpeechOptions
from voice_agent.providers.whisper_stt import WhisperOptions
from web.settings import Settings


def test_unconfigured_settings_build_the_providers_own_defaults() -> None:
    config = Settings(_env_file=None).provider_config()  # type: ignore[call-arg]
    assert config.deepgram.model == DeepgramOptions().model
    assert config.openai_stt.model == OpenAITranscriptionOptions().model
    assert (config.openai_tts.model, config.openai_tts.voice) == (
        OpenAISpeechOptions().model,
        OpenAISpeechOptions().voice,
    )
    assert config.anthropic.model == anthropic_llm.DEFAULT_MODEL
    assert config.openai_llm.model == openai_llm.DEFAULT_MODEL
    for chat in (config.anthropic, config.openai_llm):
        assert (chat.timeout_s, chat.max_tokens) == (ChatOptions().timeout_s, ChatOptions().max_tokens)
    whisper = WhisperOptions()
    assert (config.whisper.model, config.whisper.beam_size, config.whisper.cpu_threads, config.whisper.workers) == (
        whisper.model,
        whisper.beam_size,
        whisper.cpu_threads,
        whisper.workers,
    )
    voice = HibariTextToSpeech()
    assert config.hibari_voice == voice.voice
