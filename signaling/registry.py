"""The registry of live calls in this process (the app owns one; nothing global)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator

from signaling.live_call import LiveCall


class CallRegistry:
    """Live calls by id. A call removes itself when it ends; ``on_change`` hears of every call added or gone."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._calls: dict[str, LiveCall] = {}
        self._on_change = on_change
        self._opening: Counter[str] = Counter()

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

    def pending_from(self, client_address: str, except_user: str | None = None) -> list[LiveCall]:
        """Calls from one client address that were answered but have not connected yet (``except_user``'s own
        are left out: a newer call of theirs replaces them)."""
        return [
            c
            for c in self._calls.values()
            if c.pending and c.client_address == client_address and (except_user is None or c.user_id != except_user)
        ]

    def opening_from(self, client_address: str) -> int:
        """Calls from one client address being opened right now (admitted, not registered yet)."""
        return self._opening[client_address]

    @contextlib.contextmanager
    def opening(self, client_address: str) -> Iterator[None]:
        """Count a call from ``client_address`` as being opened while the block runs (offers that race each
        other are counted before any of them is answered)."""
        self._opening[client_address] += 1
        try:
            yield
        finally:
            self._opening[client_address] -= 1
            if self._opening[client_address] <= 0:
                del self._opening[client_address]

    def for_interview(self, interview_id: str) -> list[LiveCall]:
        """Live calls of one interview."""
        return [c for c in self._calls.values() if c.interview_id == interview_id]

    async def close_all(self, reason: str) -> None:
        """End every call (server shutdown)."""
        await asyncio.gather(*(c.close(reason) for c in self.all()), return_exceptions=True)
