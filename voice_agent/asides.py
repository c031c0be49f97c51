"""The interviewer's asides: short fixed lines around the turns, spoken through the usual voice pipeline.

The lines live in ``data/asides.toml``. ``SpokenText`` hands one of them to a ``Reply`` in place of the language
model, so an aside is synthesized, paced, interrupted and stored like any other line (with kind "aside").
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice_agent.providers.base import LlmUsage, ReplyRequest

ASIDES_FILE = Path(__file__).resolve().parent / "data" / "asides.toml"


@dataclass(frozen=True, slots=True)
class Asides:
    """The lines of ``asides.toml``."""

    take_your_time: str
    idle_prompt: str
    idle_move_on: str


def load_asides(path: Path = ASIDES_FILE) -> Asides:
    """Read the asides, failing with the file and the key at fault."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values = {}
    for name in Asides.__dataclass_fields__:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{path}: {name}: a non-empty string is required")
        values[name] = value.strip()
    return Asides(**values)


ASIDES = load_asides()


class SpokenText:
    """Stands where the language model would for one reply: it says exactly ``text``."""

    name = "aside"

    def __init__(self, text: str) -> None:
        self.text = text

    async def stream_reply(self, request: ReplyRequest, usage: LlmUsage | None = None) -> AsyncIterator[str]:
        """The fixed line, at once."""
        yield self.text

    async def complete_json(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never asked
        raise NotImplementedError("an aside answers no JSON request")
