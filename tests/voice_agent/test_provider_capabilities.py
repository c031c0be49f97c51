"""Every built-in provider declares what it is (embedded, streaming, writes JSON), so that nothing recognises a
provider by its name; a plugged-in provider that declares nothing is taken for an external chat service."""

from __future__ import annotations

import pytest

from voice_agent.providers.anthropic_llm import AnthropicLanguageModel
from voice_agent.providers.base import is_embedded, is_streaming, writes_json
from voice_agent.providers.deepgram_stt import DeepgramSpeechToText
from voice_agent.providers.espeak import EspeakTextToSpeech
from voice_agent.providers.hibari_tts import HibariTextToSpeech
from voice_agent.providers.openai_llm import OpenAIChatLanguageModel
from voice_agent.providers.openai_stt import OpenAISpeechToText
from voice_agent.providers.openai_tts import OpenAITextToSpeech
from voice_agent.providers.pocketsphinx_stt import PocketsphinxSpeechToText
from voice_agent.providers.scripted import ScriptedInterviewer
from voice_agent.providers.whisper_stt import WhisperSpeechToText

SPEECH_TO_TEXT = {
    WhisperSpeechToText: (True, False),
    PocketsphinxSpeechToText: (True, True),
    DeepgramSpeechToText: (False, True),
    OpenAISpeechToText: (False, False),
}
LANGUAGE_MODELS = {
    ScriptedInterviewer: (True, False),
    AnthropicLanguageModel: (False, True),
    OpenAIChatLanguageModel: (False, True),
}
VOICES = {HibariTextToSpeech: True, EspeakTextToSpeech: True, OpenAITextToSpeech: False}


@pytest.mark.parametrize("provider", list(SPEECH_TO_TEXT), ids=lambda c: c.__name__)
def test_speech_to_text_declares_embedded_and_streaming(provider: type) -> None:
    assert (vars(provider)["embedded"], vars(provider)["streaming"]) == SPEECH_TO_TEXT[provider]
    assert (is_embedded(provider), is_streaming(provider)) == SPEECH_TO_TEXT[provider]


@pytest.mark.parametrize("provider", list(LANGUAGE_MODELS), ids=lambda c: c.__name__)
def test_language_model_declares_embedded_and_json(provider: type) -> None:
    assert (vars(provider)["embedded"], vars(provider)["writes_json"]) == LANGUAGE_MODELS[provider]
    assert (is_embedded(provider), writes_json(provider)) == LANGUAGE_MODELS[provider]


@pytest.mark.parametrize("provider", list(VOICES), ids=lambda c: c.__name__)
def test_voice_declares_embedded(provider: type) -> None:
    assert vars(provider)["embedded"] is VOICES[provider] is is_embedded(provider)


def test_a_provider_that_declares_nothing_is_an_external_chat_service() -> None:
    class Plugged:
        name = "plugged"

    assert not is_embedded(Plugged()) and not is_streaming(Plugged()) and writes_json(Plugged())
