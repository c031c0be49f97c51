"""The HTTP server: the one way its runner is built (for ``serve``, its workers and the tests alike), and
``serve``, which runs it until a signal and shuts it down gracefully."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

from aiohttp import web

from web import appkeys
from web.app import create_app
from web.settings import Settings


def build_runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """An ``AppRunner`` for ``app`` with the connection limits of ``settings``.

    aiohttp's ``keepalive_timeout`` (3630 s by default) is the only bound on a connection that has not sent a
    complete request: it runs from the connection's start and from the end of each response, and is not reset
    by partial data. ``HTTP_IDLE_TIMEOUT_S`` sets it, so a client that opens sockets and sends nothing, or
    trickles a header now and then, is disconnected instead of holding a socket for an hour.
    """
    return web.AppRunner(app, access_log=None, keepalive_timeout=settings.http_idle_timeout_s)


def run_event_loop(main: Any, kind: str = "uvloop") -> Any:
    """Run ``main`` on uvloop (libuv: less Python work per socket event, measured in the README's performance
    section) or on asyncio's own loop."""
    if kind == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


async def serve(settings: Settings, reuse_port: bool = False) -> None:
    """Run the server until SIGTERM or SIGINT, then shut down gracefully: stop taking calls (``/readyz`` says 503
    for ``DRAIN_GRACE_S``), end every call with an ``ended`` event (its transcript is flushed), close, exit; all
    within ``SHUTDOWN_TIMEOUT_S``. ``reuse_port``: one of several workers sharing the port (``SO_REUSEPORT``)."""
    log = logging.getLogger("mock_interviewer")
    # Handlers first: a SIGTERM while the providers load (a slow worker of several) still shuts down gracefully.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = create_app(settings)
    runner = build_runner(app, settings)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
    await site.start()
    log.info(
        "ready on http://%s:%d (pid %d; media host addresses: %s)",
        settings.host,
        settings.port,
        os.getpid(),
        ",".join(settings.media_addresses or ["all interfaces"]),
    )
    await stop.wait()
    log.info("shutting down: no new calls; ending %d live call(s)", len(app[appkeys.CALLS]))
    app[appkeys.DRAINING].set()
    try:
        async with asyncio.timeout(settings.shutdown_timeout_s):
            await asyncio.sleep(settings.drain_grace_s)
            await runner.cleanup()  # the app's one shutdown path ends every call first
    except TimeoutError:
        log.error("shutdown took longer than %.0f s; exiting anyway", settings.shutdown_timeout_s)
    log.info("stopped")
