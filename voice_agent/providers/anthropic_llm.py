"""Claude through the official ``anthropic`` SDK (2.x): the interviewer's replies, streamed, and feedback JSON."""

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

DEFAULT_MODEL = "claude-sonnet-5-5"


class AnthropicLanguageModel:
    """``LanguageModel`` backed by the Messages API (streaming)."""

    name = "anthropic"
    embedded = False
    writes_json = True

    def __init__(self, options: ChatOptions) -> None:
        from anthropic import AsyncAnthropic  # on first use: the SDK takes seconds to import

        if options.api_key is None:
            raise ProviderError("llm", "ANTHROPIC_API_KEY is not set")
        self.options = options
        self.model = options.model or DEFAULT_MODEL
        self.health = ProviderHealth()
        self.client = AsyncAnthropic(
            api_key=options.api_key.get_secret_value(),
            base_url=options.base_url or None,
            max_retries=options.retries,
            timeout=options.timeout_s,
        )

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        """The reply, fragment by fragment; usage from the final message."""
        try:
            async with self.client.messages.stream(
                model=self.model,
                max_tokens=self.options.max_tokens,
                system=request.system,
                messages=reply_messages(request),
                extra_body={"temperature": self.options.temperature},
            ) as stream:
                async for text in stream.text_stream:
                    yield text
                final = await stream.get_final_message()
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()
        if usage is not None:
            usage.input_tokens += final.usage.input_tokens
            usage.output_tokens += final.usage.output_tokens

    async def complete_json(self, system: str, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any]:
        """One JSON object for ``schema`` (parsed; the caller validates it)."""
        try:
            response = await self.client.messages.create(
                model=self.model,
                max_tokens=4000,
                system=json_system(system, schema),
                messages=chat_messages(messages),
                extra_body={"temperature": 0.2},
            )
        except Exception as exc:
            self.health.failed(failure_kind(exc), exc.__class__.__name__)
            raise
        self.health.ok()
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        try:
            return parse_json_object(text)
        except (ValueError, json.JSONDecodeError) as exc:
            raise ProviderError("llm", f"Claude did not answer with JSON: {exc}") from exc
