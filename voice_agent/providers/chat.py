"""What the chat-model providers (Claude, OpenAI-compatible) share: the conversation as chat APIs want it,
JSON answers, and how failures are named."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from voice_agent.providers.base import ChatMessage, ReplyRequest

#: Chat APIs want the first message from the user; an interview starts with the interviewer.
CALL_STARTED = "(The candidate has joined the call.)"
JSON_INSTRUCTION = (
    "Answer with one JSON object only, no prose and no code fence. It must validate against this JSON schema:\n"
)


class ChatOptions(BaseModel):
    """A chat model behind an API."""

    api_key: SecretStr | None = None
    base_url: str = ""
    model: str = ""
    max_tokens: int = Field(400, description="longest spoken reply, in tokens")
    temperature: float = 0.7
    timeout_s: float = Field(20.0, description="a request (or a stalled stream) fails after this long")
    retries: int = Field(2, description="retries on 408, 409, 429, 5xx and dropped connections")


def chat_messages(messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> list[dict[str, str]]:
    """Alternating user/assistant turns that start with the user, as chat APIs require."""
    out: list[dict[str, str]] = []
    for message in messages:
        if out and out[-1]["role"] == message.role:
            out[-1]["content"] += " " + message.content
        else:
            out.append({"role": message.role, "content": message.content})
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": CALL_STARTED})
    return out


def reply_messages(request: ReplyRequest) -> list[dict[str, str]]:
    """The conversation of a reply request; when the candidate spoke last nothing is added, else the model is
    told the candidate is listening."""
    return chat_messages(request.messages)


def json_system(system: str, schema: dict[str, Any]) -> str:
    """A system prompt asking for JSON that fits ``schema``."""
    return f"{system}\n\n{JSON_INSTRUCTION}{json.dumps(schema)}"


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer (a code fence or surrounding prose is tolerated)."""
    cleaned = _FENCE.sub("", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer holds no JSON object")
    value = json.loads(cleaned[start : end + 1])
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value


def failure_kind(exc: BaseException) -> str:
    """A short name for why a provider call failed (for health counters)."""
    name = exc.__class__.__name__.lower()
    status = getattr(exc, "status_code", None)
    if "timeout" in name:
        return "timeout"
    if status == 429 or "ratelimit" in name:
        return "rate_limited"
    if status in (401, 403) or "authentication" in name or "permission" in name:
        return "auth"
    if (isinstance(status, int) and status >= 500) or "overloaded" in name or "internalserver" in name:
        return "server_error"
    if "connection" in name:
        return "connection"
    return "error"
