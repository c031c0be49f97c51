"""Any OpenAI-compatible chat server through the official ``openai`` SDK (3.x): OpenAI itself, Ollama, vLLM,
llama.cpp. Streaming chat completions for the interviewer; JSON mode for feedback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from voice_agent.providers.base import ChatMessage, LlmUsage, ProviderError, ProviderHealth, ReplyRequest
from voice_agent.providers.chat import (
    ChatOptions,
    chat_messages,
    failure_kind,
    json_system,
    parse_json_object,
    reply_messages,
)

DEFAULT_MODEL = "gpt-5.4-mini"
#: Self-hosted servers (Ollama, vLLM) ignore the key, but the SDK insists on one.
NO_KEY = "not-needed"


def openai_client(api_key: str | None, base_url: str, timeout_s: float, retries: int) -> Any:
    """An ``AsyncOpenAI`` client; ``base_url`` ends in /v1."""
    from openai import AsyncOpenAI  # on first use: the SDK takes about a second to import

    return AsyncOpenAI(api_key=api_key or NO_KEY, base_url=base_url or None, timeout=timeout_s, max_retries=retries)


class OpenAIChatLanguageModel:
    """``LanguageModel`` backed by chat completions."""

    name = "openai"
    embedded = False
    writes_json = True

    def __init__(self, options: ChatOptions) -> None:
        if options.api_key is None and not options.base_url:
            raise ProviderError("llm", "OPENAI_API_KEY is not set (or point LLM_BASE_URL at a local server)")
        self.options = options
        self.model = options.model or DEFAULT_MODEL
        self.health = ProviderHealth()
        key = options.api_key.get_secret_value() if options.api_key else None
        self.client = openai_client(key, options.base_url, options.timeout_s, options.retries)

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        messages = [{"role": "system", "content": request.system}, *reply_messages(request)]
        try:
            stream = await self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                **self._sampling(),
            )
            async for chunk in stream:
                if chunk.usage is not None and usage is not None:
                    usage.input_tokens += chunk.usage.prompt_tokens or 0
                    usage.output_tokens += chunk.usage.completion_tokens or 0
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()

    def _sampling(self) -> dict[str, Any]:
        # OpenAI's own reasoning models take max_completion_tokens and no temperature; the compatible servers
        # (Ollama, vLLM, llama.cpp) know max_tokens and temperature.
        if not self.options.base_url:
            return {"max_completion_tokens": self.options.max_tokens}
        return {"max_tokens": self.options.max_tokens, "temperature": self.options.temperature}

    async def complete_json(self, system: str, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": json_system(system, schema)}, *chat_messages(messages)],
                response_format={"type": "json_object"},
            )
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()
        text = response.choices[0].message.content or ""
        try:
            return parse_json_object(text)
        except (ValueError, json.JSONDecodeError) as exc:
            raise ProviderError("llm", f"the model did not answer with JSON: {exc}") from exc
