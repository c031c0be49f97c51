"""Feedback JSON from the chat providers, and which provider serves each role."""

from __future__ import annotations

import logging

import openai
import pytest
from pydantic import SecretStr

from tests.conftest import start_server, test_settings
from voice_agent.providers.anthropic_llm import AnthropicLanguageModel
from voice_agent.providers.base import ChatMessage, ProviderError
from voice_agent.providers.chat import ChatOptions
from voice_agent.providers.openai_llm import OpenAIChatLanguageModel
from web import appkeys
from web.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCHEMA = {"type": "object", "required": ["overall_score"], "properties": {"overall_score": {"type": "integer"}}}
TRANSCRIPT = [ChatMessage("assistant", "Tell me about a project."), ChatMessage("user", "I built a cache.")]


async def test_claude_answers_json_for_feedback(anthropic_api):
    llm = AnthropicLanguageModel(ChatOptions(api_key=SecretStr(anthropic_api.api_key), base_url=anthropic_api.url))
    anthropic_api.replies.append('```json\n{"overall_score": 72}\n```')
    assert await llm.complete_json("Score the interview.", TRANSCRIPT, SCHEMA) == {"overall_score": 72}
    body = anthropic_api.messages_requests[-1].json
    assert "overall_score" in body["system"] and body.get("stream") in (None, False)
    anthropic_api.replies.append("I think the candidate did well.")
    with pytest.raises(ProviderError):
        await llm.complete_json("Score the interview.", TRANSCRIPT, SCHEMA)


async def test_an_openai_compatible_server_answers_json_in_json_mode(openai_api):
    llm = OpenAIChatLanguageModel(
        ChatOptions(api_key=SecretStr(openai_api.api_key), base_url=openai_api.url + "/v1", model="qwen2.5")
    )
    openai_api.replies.append('{"overall_score": 64}')
    assert await llm.complete_json("Score the interview.", TRANSCRIPT, SCHEMA) == {"overall_score": 64}
    body = openai_api.chat_requests[-1].json
    assert body["response_format"] == {"type": "json_object"} and body["model"] == "qwen2.5"
    openai_api.fail_next(500, times=None)
    with pytest.raises(openai.InternalServerError):
        await llm.complete_json("Score the interview.", TRANSCRIPT, SCHEMA)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, ("offline", "offline", "offline")),
        ({"openai_api_key": "o"}, ("openai", "openai", "openai")),
        ({"anthropic_api_key": "a"}, ("offline", "anthropic", "offline")),
        (
            {"deepgram_api_key": "d", "anthropic_api_key": "a", "openai_api_key": "o"},
            ("deepgram", "anthropic", "openai"),
        ),
        ({"openai_api_key": "o", "stt_provider": "offline", "tts_provider": "espeak"}, ("offline", "openai", "espeak")),
    ],
)
def test_providers_are_chosen_from_the_keys_present_unless_named(keys, expected):
    assert Settings(_env_file=None, **keys).chosen_providers() == expected


def test_per_role_endpoints_override_the_provider_endpoint():
    settings = Settings(
        _env_file=None,
        openai_api_key="o",
        openai_base_url="https://api.example.com/v1",
        llm_base_url="http://127.0.0.1:11434/v1",
    )
    config = settings.provider_config()
    assert config.openai_llm.base_url == "http://127.0.0.1:11434/v1"
    assert config.openai_tts.base_url == "https://api.example.com/v1"
    assert config.openai_stt.base_url == "https://api.example.com/v1"


async def test_startup_logs_each_role_and_never_a_key(tmp_path, anthropic_api, openai_api, deepgram, caplog):
    caplog.set_level(logging.INFO)
    settings = test_settings(
        tmp_path,
        deepgram_api_key="dg-test-key-secret",
        deepgram_base_url=deepgram.url,
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=anthropic_api.url,
        openai_api_key="sk-openai-test",
        openai_base_url=openai_api.url + "/v1",
    )
    runner, running = await start_server(settings)
    try:
        providers = running.app[appkeys.PROVIDERS]
        assert (providers.stt.name, providers.llm.name, providers.tts.name) == ("deepgram", "anthropic", "openai-tts")
    finally:
        await runner.cleanup()
    log = caplog.text
    assert "stt=deepgram llm=anthropic tts=openai-tts" in log
    for secret in ("dg-test-key-secret", "sk-ant-test", "sk-openai-test"):
        assert secret not in log
    assert "sk-ant-test" not in repr(settings) and "sk-ant-test" not in str(settings.provider_config())
