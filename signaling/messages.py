"""Reading a client's JSON message, whichever transport carried it (the WebSocket stream, the data channel)."""

from __future__ import annotations

import json
from typing import Any

#: The ``invalid_json`` error event's message.
INVALID_JSON = 'Messages must be JSON objects such as {"type": "end"}.'


def parse_client_message(raw: str | bytes) -> dict[str, Any] | None:
    """The JSON object a client sent, or ``None`` when it is not one: not text, not JSON, not an object, or
    nested too deeply to parse (``json`` raises ``RecursionError`` there, not ``ValueError``)."""
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
