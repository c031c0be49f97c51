"""Redis for what several workers and hosts share (``REDIS_URL``): the client, and the rate limiter.

The one-call-per-user lease is in ``signaling.redis_lease`` and the live-call snapshots in
``web.call_directory``; this module makes the client they all use.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from web.ratelimit import Verdict

log = logging.getLogger(__name__)


def connect(url: str) -> Any:
    """An asyncio Redis client for ``url`` (it connects on first use), answering ``str``."""
    import redis.asyncio as redis

    return redis.from_url(url, decode_responses=True, health_check_interval=30, socket_connect_timeout=5)


def masked(url: str) -> str:
    """The URL without its password, for logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisRateLimiter:
    """Fixed one-minute windows counted in Redis (``INCR`` on a key per window), shared by every worker.

    If Redis cannot be reached the request is let through (and a warning logged): an outage of the shared state
    must not take the whole site down.
    """

    def __init__(self, redis: Any, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:rate:"
        self._clock = clock
        self._failing = False

    async def hit(self, key: str, limit: int, window_s: float = 60.0) -> Verdict:
        now = self._clock()
        window = int(now // window_s)
        name = f"{self._prefix}{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, math.ceil(window_s) + 1)
                count, _ = await pipe.execute()
        except Exception as exc:
            if not self._failing:
                log.warning("rate limits unavailable (Redis: %s); letting requests through", exc)
            self._failing = True
            return Verdict(True)
        self._failing = False
        if count > limit:
            return Verdict(False, max(1, math.ceil((window + 1) * window_s - now)))
        return Verdict(True)
