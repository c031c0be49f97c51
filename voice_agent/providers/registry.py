"""Choosing and starting providers by name: ``offline`` names and ``package.module:factory`` import paths.

A factory named by import path is called with the ``ProviderConfig`` and returns a provider (or an awaitable
of one); that is how the benchmarks plug in simulated providers and how users add their own.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from voice_agent.providers.base import Providers
from voice_agent.providers.whisper_stt import WhisperOptions

log = logging.getLogger(__name__)


class ProviderConfig(BaseModel):
    """Which provider serves each role, and their options."""

    stt: str = "offline"
    llm: str = "offline"
    tts: str = "offline"
    whisper: WhisperOptions = Field(default_factory=WhisperOptions)
    hibari_voice: str = "heart"
    hibari_workers: int = 1
    espeak_voice: str = "en-us"


def _offline_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.whisper_stt import WhisperSpeechToText

    return WhisperSpeechToText(config.whisper)


def _pocketsphinx_stt(config: ProviderConfig) -> Any:
    from voice_agent.providers.pocketsphinx_stt import PocketsphinxSpeechToText

    return PocketsphinxSpeechToText()


def _offline_llm(config: ProviderConfig) -> Any:
    from voice_agent.providers.scripted import ScriptedInterviewer

    return ScriptedInterviewer()


def _offline_tts(config: ProviderConfig) -> Any:
    from voice_agent.providers.hibari_tts import HibariTextToSpeech

    return HibariTextToSpeech(voice=config.hibari_voice, workers=config.hibari_workers)


def _espeak_tts(config: ProviderConfig) -> Any:
    from voice_agent.providers.espeak import EspeakTextToSpeech

    return EspeakTextToSpeech(voice=config.espeak_voice)


Factory = Callable[[ProviderConfig], Any]

BUILTIN: dict[str, dict[str, Factory]] = {
    "stt": {"offline": _offline_stt, "whisper": _offline_stt, "pocketsphinx": _pocketsphinx_stt},
    "llm": {"offline": _offline_llm, "scripted": _offline_llm},
    "tts": {"offline": _offline_tts, "hibari": _offline_tts, "espeak": _espeak_tts},
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
    """Build, start and warm up the three providers and the fallback voice."""
    stt = await build_provider("stt", config.stt, config)
    llm = await build_provider("llm", config.llm, config)
    tts = await build_provider("tts", config.tts, config)
    fallback = None
    if getattr(tts, "name", "") != "espeak":
        try:
            fallback = await build_provider("tts", "espeak", config)
        except Exception as exc:  # the fallback voice is a nicety, never a reason not to start
            log.warning("fallback voice unavailable: %s", exc)
    log.info("providers: stt=%s llm=%s tts=%s", stt.name, llm.name, tts.name)
    return Providers(stt=stt, llm=llm, tts=tts, fallback_tts=fallback)


async def close_providers(providers: Providers) -> None:
    """Release what the providers hold (threads, processes, connections)."""
    for provider in (providers.stt, providers.llm, providers.tts, providers.fallback_tts):
        close = getattr(provider, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:
                log.exception("closing provider %s", getattr(provider, "name", provider))
