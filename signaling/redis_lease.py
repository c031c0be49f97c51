"""The one-call-per-user lease in Redis, shared by every worker on every host.

- ``{prefix}:lease:{user_id}`` holds the id of the user's live call, with a time to live (``LEASE_TTL_S``) that
  the call's worker refreshes with a heartbeat every third of it; a worker that dies lets its leases expire.
- Taking the lease is one ``SET ... GET`` (the last of two racing offers wins) followed by a message on
  ``{prefix}:lease-events``: every worker listens, and the one running the older call ends it (``replaced``).
- The heartbeat is the safety net: a worker that missed the message (Redis restarted, a network blip) finds at
  its next beat that another call holds the lease, and ends its call the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from signaling.lease import OnLost

log = logging.getLogger(__name__)

# Refresh the lease if this call still holds it; take it back if it expired meanwhile (Redis restarted, a long
# pause); 0 when another call holds it.
_HEARTBEAT = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCallLease:
    """``CallLease`` in Redis; ``start()`` begins listening and beating, ``close()`` stops."""

    def __init__(self, redis: Any, prefix: str, ttl_s: float = 15.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._channel = f"{prefix}:lease-events"
        self._ttl_ms = int(ttl_s * 1000)
        self._beat_s = ttl_s / 3
        self._watchers: dict[str, tuple[str, OnLost]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._release = redis.register_script(_RELEASE)
        self._listening = asyncio.Event()

    def _key(self, user_id: str) -> str:
        return f"{self._prefix}:lease:{user_id}"

    async def start(self) -> None:
        """Listen for leases taken elsewhere and keep this worker's leases alive."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="lease-listener"),
            loop.create_task(self._beat(), name="lease-heartbeat"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5.0)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    # ------------------------------------------------------------------ CallLease

    async def take(self, user_id: str, call_id: str) -> str | None:
        previous = await self._redis.set(self._key(user_id), call_id, px=self._ttl_ms, get=True)
        await self._announce("taken", user_id, call_id)
        return previous if previous not in (None, call_id) else None

    async def holder(self, user_id: str) -> str | None:
        return await self._redis.get(self._key(user_id))

    async def release(self, user_id: str, call_id: str) -> None:
        await self._release(keys=[self._key(user_id)], args=[call_id])

    def watch(self, user_id: str, call_id: str, on_lost: OnLost) -> None:
        self._watchers[call_id] = (user_id, on_lost)

    def unwatch(self, call_id: str) -> None:
        self._watchers.pop(call_id, None)

    async def evict(self, user_id: str, call_id: str, timeout_s: float) -> None:
        await self._announce("evict", user_id, call_id)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self.holder(user_id) != call_id:
                return
            await asyncio.sleep(0.05)
        log.warning("call %s did not let go of its lease in %.0f s (its worker may be gone)", call_id, timeout_s)

    # ------------------------------------------------------------------ workers telling each other

    async def _announce(self, kind: str, user_id: str, call_id: str) -> None:
        await self._redis.publish(self._channel, json.dumps({"kind": kind, "user_id": user_id, "call_id": call_id}))

    def _lost(self, call_id: str) -> None:
        watcher = self._watchers.pop(call_id, None)
        if watcher is not None:
            log.info("call %s lost its lease to a newer call", call_id)
            try:
                watcher[1]()
            except Exception:
                log.exception("call %s: ending the replaced call failed", call_id)

    def _on_message(self, data: str) -> None:
        try:
            message = json.loads(data)
            kind, user_id, call_id = message["kind"], message["user_id"], message["call_id"]
        except (ValueError, KeyError, TypeError):
            return
        if kind == "taken":
            for watched, (watched_user, _) in list(self._watchers.items()):
                if watched_user == user_id and watched != call_id:
                    self._lost(watched)
        elif kind == "evict":
            self._lost(call_id)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._listening.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lease messages from Redis interrupted (%s); listening again", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._beat_s)
            for call_id, (user_id, _) in list(self._watchers.items()):
                try:
                    held = await self._heartbeat(keys=[self._key(user_id)], args=[call_id, self._ttl_ms])
                except Exception as exc:
                    log.warning("lease heartbeat failed: %s", exc)
                    break
                if not held:
                    self._lost(call_id)
