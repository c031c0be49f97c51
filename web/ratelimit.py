"""Rate limiting behind a small interface (in memory here; Redis when several workers share the limits)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float = 60.0) -> Verdict:
        """Count one request for ``key``; refuse when more than ``limit`` came in ``window_s``."""
        ...


class InMemoryRateLimiter:
    """A fixed-window counter per key, in this process only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._last_prune = clock()

    async def hit(self, key: str, limit: int, window_s: float = 60.0) -> Verdict:
        now = self._clock()
        self._prune(now, window_s)
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_s:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        if count > limit:
            return Verdict(False, max(1, math.ceil(started + window_s - now)))
        return Verdict(True)

    def _prune(self, now: float, window_s: float) -> None:
        if now - self._last_prune < window_s:
            return
        self._last_prune = now
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_s}
