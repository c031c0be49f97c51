"""One live call per user: a lease the newest call takes (kept in this process by ``LocalCallLease``; in Redis by
``signaling.redis_lease.RedisCallLease`` when several workers or hosts share the users).

A call ``watch``es its lease: when a newer call takes it (here or on another worker), or someone asks the holder
to step down (``evict``), the watcher's callback runs and the call ends with reason ``replaced``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

#: Called when a call lost its lease to a newer call.
OnLost = Callable[[], None]


class CallLease(Protocol):
    async def take(self, user_id: str, call_id: str) -> str | None:
        """Give the user's lease to ``call_id``; returns the call that held it before, if any."""
        ...

    async def holder(self, user_id: str) -> str | None:
        """The call that holds the user's lease now."""
        ...

    async def release(self, user_id: str, call_id: str) -> None:
        """Give the lease back, if ``call_id`` still holds it."""
        ...

    def watch(self, user_id: str, call_id: str, on_lost: OnLost) -> None:
        """Run ``on_lost`` (once) when ``call_id`` loses the user's lease to another call."""
        ...

    def unwatch(self, call_id: str) -> None:
        """Stop watching ``call_id`` (it ended)."""
        ...

    async def evict(self, user_id: str, call_id: str, timeout_s: float) -> None:
        """Ask the worker running ``call_id`` to end it, and wait (at most ``timeout_s``) until it has let go."""
        ...


class LocalCallLease:
    """The lease in this process's memory."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}
        self._watchers: dict[str, tuple[str, OnLost]] = {}

    async def take(self, user_id: str, call_id: str) -> str | None:
        previous = self._holders.get(user_id)
        self._holders[user_id] = call_id
        if previous is not None and previous != call_id:
            self._lost(previous)
            return previous
        return None

    async def holder(self, user_id: str) -> str | None:
        return self._holders.get(user_id)

    async def release(self, user_id: str, call_id: str) -> None:
        if self._holders.get(user_id) == call_id:
            del self._holders[user_id]

    def watch(self, user_id: str, call_id: str, on_lost: OnLost) -> None:
        self._watchers[call_id] = (user_id, on_lost)

    def unwatch(self, call_id: str) -> None:
        self._watchers.pop(call_id, None)

    async def evict(self, user_id: str, call_id: str, timeout_s: float) -> None:
        # Every call of this process is in its registry, which ends an older local call itself; a holder this
        # process does not know is a leftover: drop it.
        self._lost(call_id)
        await self.release(user_id, call_id)

    def _lost(self, call_id: str) -> None:
        watcher = self._watchers.pop(call_id, None)
        if watcher is not None:
            try:
                watcher[1]()
            except Exception:
                log.exception("call %s: ending the replaced call failed", call_id)
