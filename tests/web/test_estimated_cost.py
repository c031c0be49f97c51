"""The estimated cost: the embedded providers (they declare ``embedded``) cost nothing, the others their unit
price."""

from __future__ import annotations

from types import SimpleNamespace

from voice_agent.providers.anthropic_llm import AnthropicLanguageModel
from voice_agent.providers.base import Providers
from voice_agent.providers.deepgram_stt import DeepgramSpeechToText
from voice_agent.providers.hibari_tts import HibariTextToSpeech
from voice_agent.providers.openai_tts import OpenAITextToSpeech
from voice_agent.providers.scripted import ScriptedInterviewer
from voice_agent.providers.whisper_stt import WhisperSpeechToText
from voice_agent.session import Usage
from web.metrics import estimated_cost


def test_embedded_providers_cost_nothing_and_the_others_their_unit_price() -> None:
    usage = Usage(stt_seconds=120, llm_input_tokens=1_000_000, llm_output_tokens=0, tts_characters=1_000_000)
    prices = SimpleNamespace(
        price_stt_per_minute=0.5, price_llm_input_per_mtok=3.0, price_llm_output_per_mtok=15.0, price_tts_per_mchar=2.0
    )
    embedded = Providers(stt=WhisperSpeechToText, llm=ScriptedInterviewer, tts=HibariTextToSpeech)  # type: ignore[arg-type]
    paid = Providers(stt=DeepgramSpeechToText, llm=AnthropicLanguageModel, tts=OpenAITextToSpeech)  # type: ignore[arg-type]
    assert estimated_cost(usage, embedded, prices)["total"] == 0.0
    assert estimated_cost(usage, paid, prices) == {"stt": 1.0, "llm": 3.0, "tts": 2.0, "total": 6.0}
