"""Choosing and starting providers by name: ``offline`` names and ``package.module:factory`` import paths.

A factory named by import path is called with the ``ProviderConfig`` and returns a provider (or an awaitable
of one); that is how the benchmarks plug in simulated providers and how users add their own.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from voice_agent.providers.base import Providers
from voice_agent.providers.chat import ChatOptions
from voice_agent.providers.deepgram_stt import DeepgramOptions
from voice_agent.providers.espeak import DEFAULT_VOICE as ESPEAK_DEFAULT_VOICE
from voice_agent.providers.hibari_tts import DEFAULT_VOICE as HIBARI_DEFAULT_VOICE
from voice_agent.providers.openai_stt import OpenAITranscriptionOptions
from voice_agent.providers.openai_tts import OpenAISpeechOptions
from voice_agent.providers.whisper_stt import WhisperOptions

log = logging.getLogger(__name__)


class ProviderConfig(BaseModel):
    """Which provider serves each role, and their options."""

    stt: str = "offline"
    llm: str = "offline"
    tts: str = "offline"
    whisper: WhisperOptions = Field(default_factory=WhisperOptions)
    hibari_voice: str = HIBARI_DEFAULT_VOICE
    hibari_workers: int = 1
    espeak_voice: str = ESPEAK_DEFAULT_VOICE
    deepgram: DeepgramOptions = Field(default_factory=DeepgramOptions)
    openai_stt: OpenAITranscriptionOptions = Field(default_factory=OpenAITranscriptionOptions)
    anthropic: ChatOptions = Field(default_factory=ChatOptions)
    openai_llm: ChatOptions = Field(default_factory=ChatOptions)
    openai_tts: OpenAISpeechOptions = Field(default_factory=OpenAISpeechOptions)
    #: An operator's question banks for the scripted interviewer (``QUESTION_BANKS_DIR``); None: the built-in ones.
    question_banks_dir: Path | None = None
    #: The acoustic end-of-turn model: "smart-turn", or "none".
    turn_model: str = "smart-turn"


def _offline_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.whisper_stt import WhisperSpeechToText

    return WhisperSpeechToText(config.whisper)


def _pocketsphinx_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.pocketsphinx_stt import PocketsphinxSpeechToText

    return PocketsphinxSpeechToText()


def _offline_llm(config: ProviderConfig) -> Any:
    from voice_agent.providers.scripted import ScriptedInterviewer
    from voice_agent.question_banks import load_question_banks

    # A broken bank folder raises QuestionBankError here: the server refuses to start.
    return ScriptedInterviewer(load_question_banks(config.question_banks_dir))


def _offline_tts(config: ProviderConfig) -> Any:
    from voice_agent.providers.hibari_tts import HibariTextToSpeech

    return HibariTextToSpeech(voice=config.hibari_voice, workers=config.hibari_workers)


def _espeak_tts(config: ProviderConfig) -> Any:
    from voice_agent.providers.espeak import EspeakTextToSpeech

    return EspeakTextToSpeech(voice=config.espeak_voice)


def _deepgram_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.deepgram_stt import DeepgramSpeechToText

    return DeepgramSpeechToText(config.deepgram)


def _openai_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.openai_stt import OpenAISpeechToText

    return OpenAISpeechToText(config.openai_stt)


def _anthropic_llm(config: ProviderConfig) -> Any:
    from voice_agent.providers.anthropic_llm import AnthropicLanguageModel

    return AnthropicLanguageModel(config.anthropic)


def _openai_llm(config: ProviderConfig) -> Any:
    from voice_agent.providers.openai_llm import OpenAIChatLanguageModel

    return OpenAIChatLanguageModel(config.openai_llm)


def _openai_tts(config: ProviderConfig) -> Any:
    from voice_agent.providers.openai_tts import OpenAITextToSpeech

    return OpenAITextToSpeech(config.openai_tts)


Factory = Callable[[ProviderConfig], Any]

BUILTIN: dict[str, dict[str, Factory]] = {
    "stt": {
        "offline": _offline_stt,
        "whisper": _offline_stt,
        "pocketsphinx": _pocketsphinx_stt,
        "deepgram": _deepgram_stt,
        "openai": _openai_stt,
    },
    "llm": {"offline": _offline_llm, "scripted": _offline_llm, "anthropic": _anthropic_llm, "openai": _openai_llm},
    "tts": {"offline": _offline_tts, "hibari": _offline_tts, "espeak": _espeak_tts, "openai": _openai_tts},
}


def resolve_factory(role: str, name: str) -> Factory:
    """The factory for a built-in name or a ``package.module:factory`` import path."""
    builtin = BUILTIN[role].get(name)
    if builtin is not None:
        return builtin
    if ":" not in name:
        known = ", ".join(sorted(BUILTIN[role]))
        raise ValueError(f"unknown {role.upper()} provider {name!r}: use one of {known} or 'package.module:factory'")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{role.upper()} provider {name!r}: cannot import {module_name!r} ({exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{role.upper()} provider {name!r}: {module_name} has no callable {attr!r}")
    return factory


async def build_provider(role: str, name: str, config: ProviderConfig) -> Any:
    """Create and start one provider (``start()`` is awaited when the provider has one)."""
    provider = resolve_factory(role, name)(config)
    if inspect.isawaitable(provider):
        provider = await provider
    start = getattr(provider, "start", None)
    if start is not None:
        await start()
    return provider


async def load_providers(config: ProviderConfig) -> Providers:
    """Build, start and warm up the three providers, plus the offline fallbacks: eSpeak NG speaks when the voice
    fails, the scripted interviewer carries on when a chat model fails."""
    stt = await build_provider("stt", config.stt, config)
    llm = await build_provider("llm", config.llm, config)
    tts = await build_provider("tts", config.tts, config)
    fallback_tts = fallback_llm = None
    if resolve_factory("tts", config.tts) is not _espeak_tts:  # the chosen voice is not the fallback already
        try:
            fallback_tts = await build_provider("tts", "espeak", config)
        except Exception as exc:  # the fallback voice is a nicety, never a reason not to start
            log.warning("fallback voice unavailable: %s", exc)
    if resolve_factory("llm", config.llm) is not _offline_llm:
        fallback_llm = await build_provider("llm", "scripted", config)
    turn_model = None
    if config.turn_model == "smart-turn":
        from voice_agent.turn_model import SmartTurnModel

        turn_model = SmartTurnModel()
        await turn_model.start()
    log.info("providers: stt=%s llm=%s tts=%s turn model=%s", stt.name, llm.name, tts.name, config.turn_model)
    return Providers(
        stt=stt, llm=llm, tts=tts, fallback_tts=fallback_tts, fallback_llm=fallback_llm, turn_model=turn_model
    )


async def close_providers(providers: Providers) -> None:
    """Release what the providers hold (threads, processes, connections)."""
    every = (providers.stt, providers.llm, providers.tts, providers.fallback_tts, providers.fallback_llm)
    for provider in (*every, providers.turn_model):
        close = getattr(provider, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:
                log.exception("closing provider %s", getattr(provider, "name", provider))
