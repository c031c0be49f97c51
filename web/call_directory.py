"""What every worker shares for ``/api/status``: a snapshot of its live calls and its counts since start.

Each worker publishes its snapshot every ``STATUS_PUBLISH_INTERVAL_S`` (and at once when a call starts or ends);
the status endpoint shows its own live figures plus every other worker's latest snapshot. Where snapshots live:

- ``RedisCallDirectory`` (``REDIS_URL`` set): one key per worker with a time to live, so workers on every host
  are seen and a dead worker disappears on its own;
- ``FileCallDirectory`` (``serve --workers N`` without Redis): one JSON file per worker in the supervisor's
  private folder, replaced atomically; a file not refreshed for a few intervals belongs to a dead worker and is
  ignored;
- none (a single process): the status shows this process only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: A snapshot older than this many publish intervals belongs to a worker that stopped.
STALE_AFTER_INTERVALS = 5


class CallDirectory(Protocol):
    """Where workers share their snapshots."""

    async def publish(self, worker: str, snapshot: dict[str, Any]) -> None:
        """Store this worker's latest snapshot."""
        ...

    async def snapshots(self) -> list[dict[str, Any]]:
        """Every live worker's latest snapshot (this worker's too)."""
        ...

    async def withdraw(self, worker: str) -> None:
        """Forget this worker (it is stopping)."""
        ...


class FileCallDirectory:
    """Snapshots as JSON files in one folder shared by the workers of one host."""

    def __init__(self, folder: Path, interval_s: float) -> None:
        self._folder = folder
        self._stale_s = interval_s * STALE_AFTER_INTERVALS
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, worker: str) -> Path:
        return self._folder / f"{_safe(worker)}.json"

    async def publish(self, worker: str, snapshot: dict[str, Any]) -> None:
        path = self._path(worker)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(snapshot))
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one

    async def snapshots(self) -> list[dict[str, Any]]:
        now = time.time()
        found = []
        for path in self._folder.glob("*.json"):
            try:
                if now - path.stat().st_mtime > self._stale_s:
                    continue
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # replaced or removed meanwhile
        return found

    async def withdraw(self, worker: str) -> None:
        with contextlib.suppress(OSError):
            self._path(worker).unlink()


class RedisCallDirectory:
    """Snapshots as Redis keys ``{prefix}:workers:{worker}`` that expire unless refreshed."""

    def __init__(self, redis: Any, prefix: str, interval_s: float) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:workers:"
        self._ttl_ms = max(1000, int(interval_s * STALE_AFTER_INTERVALS * 1000))

    async def publish(self, worker: str, snapshot: dict[str, Any]) -> None:
        await self._redis.set(self._prefix + worker, json.dumps(snapshot), px=self._ttl_ms)

    async def snapshots(self) -> list[dict[str, Any]]:
        keys = [key async for key in self._redis.scan_iter(match=self._prefix + "*", count=200)]
        if not keys:
            return []
        values = await self._redis.mget(keys)
        found = []
        for value in values:
            if value:
                with contextlib.suppress(ValueError):
                    found.append(json.loads(value))
        return found

    async def withdraw(self, worker: str) -> None:
        await self._redis.delete(self._prefix + worker)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
