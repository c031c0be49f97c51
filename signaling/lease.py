"""One live call per user: a lease the newest call takes (kept in this process; in Redis when several workers
or hosts share the users)."""

from __future__ import annotations

from typing import Protocol


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


class LocalCallLease:
    """The lease in this process's memory."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    async def take(self, user_id: str, call_id: str) -> str | None:
        previous = self._holders.get(user_id)
        self._holders[user_id] = call_id
        return previous if previous != call_id else None

    async def holder(self, user_id: str) -> str | None:
        return self._holders.get(user_id)

    async def release(self, user_id: str, call_id: str) -> None:
        if self._holders.get(user_id) == call_id:
            del self._holders[user_id]
