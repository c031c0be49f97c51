"""The registry of live calls in this process (the app owns one; nothing global)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from signaling.live_call import LiveCall


class CallRegistry:
    """Live calls by id. A call removes itself when it ends; ``on_change`` hears of every call added or gone."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._calls: dict[str, LiveCall] = {}
        self._on_change = on_change

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call: LiveCall) -> None:
        """Track ``call`` until it ends."""
        self._calls[call.id] = call
        if self._on_change is not None:
            self._on_change()
        asyncio.get_running_loop().create_task(self._forget_when_ended(call), name=f"registry-{call.id}")

    async def _forget_when_ended(self, call: LiveCall) -> None:
        await call.ended.wait()
        self._calls.pop(call.id, None)
        if self._on_change is not None:
            self._on_change()

    def get(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)

    def all(self) -> list[LiveCall]:
        """Every live call."""
        return list(self._calls.values())

    def for_interview(self, interview_id: str) -> list[LiveCall]:
        """Live calls of one interview."""
        return [c for c in self._calls.values() if c.interview_id == interview_id]

    async def close_all(self, reason: str) -> None:
        """End every call (server shutdown)."""
        await asyncio.gather(*(c.close(reason) for c in self.all()), return_exceptions=True)
