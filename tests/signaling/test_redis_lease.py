"""The one-call-per-user lease in a real Redis: the newest call wins, and an older call on another worker hears
it through the message or, failing that, through its heartbeat."""

from __future__ import annotations

import asyncio

from signaling.redis_lease import RedisCallLease
from web.redis_state import RedisRateLimiter, connect


async def test_a_newer_call_on_another_worker_takes_the_lease_and_the_older_hears_it(redis_server):
    prefix = redis_server.prefix()
    first_redis, second_redis = connect(redis_server.url), connect(redis_server.url)
    first, second = RedisCallLease(first_redis, prefix, ttl_s=3), RedisCallLease(second_redis, prefix, ttl_s=3)
    await first.start()
    await second.start()
    lost = asyncio.Event()
    try:
        first.watch("user-1", "call-a", lost.set)
        assert await first.take("user-1", "call-a") is None
        assert await second.holder("user-1") == "call-a"
        second.watch("user-1", "call-b", lambda: None)
        assert await second.take("user-1", "call-b") == "call-a"
        await asyncio.wait_for(lost.wait(), 5)
        # The older call lets go: that does not free the newer call's lease.
        await first.release("user-1", "call-a")
        assert await first.holder("user-1") == "call-b"
        await second.release("user-1", "call-b")
        assert await first.holder("user-1") is None
    finally:
        await first.close()
        await second.close()
        await first_redis.aclose()
        await second_redis.aclose()


async def test_the_heartbeat_notices_a_lease_lost_without_a_message_and_keeps_a_held_one_alive(redis_server):
    prefix = redis_server.prefix()
    redis = connect(redis_server.url)
    lease = RedisCallLease(redis, prefix, ttl_s=1.5)
    await lease.start()
    lost = asyncio.Event()
    try:
        lease.watch("user-2", "call-a", lost.set)
        await lease.take("user-2", "call-a")
        await asyncio.sleep(2.5)  # longer than the time to live: the heartbeat kept it
        assert await lease.holder("user-2") == "call-a" and not lost.is_set()
        await redis.set(f"{prefix}:lease:user-2", "call-elsewhere")  # taken, and the message missed
        await asyncio.wait_for(lost.wait(), 3)
    finally:
        await lease.close()
        await redis.aclose()


async def test_evict_asks_the_holder_to_end_and_waits_until_it_let_go(redis_server):
    prefix = redis_server.prefix()
    redis, other_redis = connect(redis_server.url), connect(redis_server.url)
    holder, newcomer = RedisCallLease(redis, prefix), RedisCallLease(other_redis, prefix)
    await holder.start()
    await newcomer.start()

    def end_call() -> None:
        asyncio.get_running_loop().create_task(holder.release("user-3", "call-a"))

    try:
        holder.watch("user-3", "call-a", end_call)
        await holder.take("user-3", "call-a")
        await asyncio.wait_for(newcomer.evict("user-3", "call-a", timeout_s=5), 6)
        assert await newcomer.holder("user-3") is None
    finally:
        await holder.close()
        await newcomer.close()
        await redis.aclose()
        await other_redis.aclose()


async def test_redis_rate_limits_count_one_window_for_every_worker(redis_server):
    prefix = redis_server.prefix()
    now = [1_000_000 * 60.0 + 1]
    clients = [connect(redis_server.url) for _ in range(2)]
    limiters = [RedisRateLimiter(client, prefix, clock=lambda: now[0]) for client in clients]
    try:
        verdicts = [await limiters[i % 2].hit("api:198.51.100.1", 4) for i in range(6)]
        assert [v.allowed for v in verdicts] == [True] * 4 + [False] * 2
        assert verdicts[-1].retry_after_s == 59
        now[0] += 60  # the next minute
        assert (await limiters[1].hit("api:198.51.100.1", 4)).allowed
    finally:
        for client in clients:
            await client.aclose()
