"""The whole server as the status endpoint shows it: this worker live, every other worker from its snapshot.

Each worker publishes a snapshot (its live calls, its counts since start, its recent latencies, its usage) to the
app's ``CallDirectory`` (``web.call_directory``); ``whole_server`` merges them. A server of one process has no
directory and shows itself only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from web import appkeys
from web.metrics import call_status

log = logging.getLogger(__name__)

#: Latencies per stage a worker shares for the merged percentiles (its most recent ones).
SHARED_SAMPLES = 1000


def worker_name() -> str:
    """This process, unique across hosts: ``hostname:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def worker_snapshot(app: web.Application, samples: int = SHARED_SAMPLES) -> dict[str, Any]:
    """What this worker shares: identity, live calls, counts since start, recent latencies and usage."""

    monitor = app[appkeys.MONITOR]
    worker = app[appkeys.WORKER]
    calls = app[appkeys.CALLS].all()
    usage = monitor.usage.model_dump()
    for call in calls:
        for key, value in call.session.usage.model_dump().items():
            usage[key] = usage.get(key, 0) + value
    return {
        "worker": worker,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "uptime_s": round(time.time() - monitor.started, 1),
        "draining": app[appkeys.DRAINING].is_set(),
        "published_at": time.time(),
        "calls": [{**await call_status(call), "worker": worker} for call in calls],
        "counts": {
            "calls": monitor.total_calls,
            "turns": monitor.total_turns,
            "calls_ended": dict(monitor.ended_by),
            "errors_by_role": dict(monitor.errors_by_role),
        },
        "samples": {stage: list(values)[-samples:] for stage, values in monitor.samples.items()},
        "usage": usage,
    }


@dataclass
class ServerView:
    """Every worker's figures, merged."""

    worker: str
    workers: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    counts: dict[str, Any]
    samples: dict[str, list[float]]
    usage: dict[str, Any]
    shared_state: dict[str, Any]


async def whole_server(app: web.Application) -> ServerView:
    """This worker (live, with all its latencies) and the latest snapshot of every other live worker."""
    own = await worker_snapshot(app, samples=10**9)
    directory = app.get(appkeys.CALL_DIRECTORY)
    shared: dict[str, Any] = {"kind": app[appkeys.SHARED_STATE_KIND], "ok": True}
    others: list[dict[str, Any]] = []
    if directory is not None:
        try:
            others = [s for s in await directory.snapshots() if s.get("worker") != own["worker"]]
        except Exception as exc:
            log.warning("the other workers' status could not be read: %s", exc)
            shared["ok"] = False
    everyone = [own, *sorted(others, key=lambda s: s.get("worker", ""))]
    calls_ended: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    samples: dict[str, list[float]] = {stage: [] for stage in own["samples"]}
    usage: dict[str, Any] = {}
    for snapshot in everyone:
        counts = snapshot.get("counts", {})
        calls_ended.update(counts.get("calls_ended", {}))
        errors.update(counts.get("errors_by_role", {}))
        for stage, values in snapshot.get("samples", {}).items():
            samples.setdefault(stage, []).extend(values)
        for key, value in snapshot.get("usage", {}).items():
            usage[key] = usage.get(key, 0) + value
    return ServerView(
        worker=own["worker"],
        workers=[
            {
                "worker": s.get("worker"),
                "host": s.get("host"),
                "pid": s.get("pid"),
                "uptime_s": s.get("uptime_s"),
                "draining": s.get("draining"),
                "active_calls": len(s.get("calls", [])),
            }
            for s in everyone
        ],
        calls=[call for s in everyone for call in s.get("calls", [])],
        counts={
            "calls": sum(s.get("counts", {}).get("calls", 0) for s in everyone),
            "turns": sum(s.get("counts", {}).get("turns", 0) for s in everyone),
            "calls_ended": dict(calls_ended),
            "errors_by_role": dict(errors),
        },
        samples=samples,
        usage=usage,
        shared_state=shared,
    )


async def publish_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: publish this worker's snapshot every interval and whenever a call starts or ends."""
    directory = app.get(appkeys.CALL_DIRECTORY)
    if directory is None:
        yield
        return
    task = asyncio.get_running_loop().create_task(_publish_forever(app, directory), name="status-publisher")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await directory.withdraw(app[appkeys.WORKER])


async def _publish_forever(app: web.Application, directory: Any) -> None:
    interval = app[appkeys.SETTINGS].status_publish_interval_s
    changed = app[appkeys.MONITOR].changed
    failing = False
    while True:
        changed.clear()
        try:
            await directory.publish(app[appkeys.WORKER], await worker_snapshot(app))
            if failing:
                log.info("sharing this worker's status works again")
            failing = False
        except Exception as exc:
            if not failing:
                log.warning("this worker's status could not be shared: %s", exc)
            failing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), interval)
