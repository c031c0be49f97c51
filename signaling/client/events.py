"""Which events from the server mark the steps of a turn."""

from __future__ import annotations

from typing import Any


def is_assistant_final(event: dict[str, Any]) -> bool:
    """The agent's complete line."""
    return event.get("type") == "transcript" and event.get("role") == "assistant" and bool(event.get("final"))


def is_user_final(event: dict[str, Any]) -> bool:
    """What the server finally heard the candidate say."""
    return event.get("type") == "transcript" and event.get("role") == "user" and bool(event.get("final"))


def is_listening_or_ended(event: dict[str, Any]) -> bool:
    """The agent's turn is over: it listens again, or the call ended."""
    return (event.get("type") == "state" and event.get("state") in ("listening", "ended")) or event.get(
        "type"
    ) == "ended"


def is_speaking(event: dict[str, Any]) -> bool:
    """The agent starts speaking."""
    return event.get("type") == "state" and event.get("state") == "speaking"
