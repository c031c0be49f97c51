"""The one way the HTTP server is built, for ``serve``, its workers and the tests alike."""

from __future__ import annotations

from aiohttp import web

from web.settings import Settings


def build_runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """An ``AppRunner`` for ``app`` with the connection limits of ``settings``.

    aiohttp's ``keepalive_timeout`` (3630 s by default) is the only bound on a connection that has not sent a
    complete request: it runs from the connection's start and from the end of each response, and is not reset
    by partial data. ``HTTP_IDLE_TIMEOUT_S`` sets it, so a client that opens sockets and sends nothing, or
    trickles a header now and then, is disconnected instead of holding a socket for an hour.
    """
    return web.AppRunner(app, access_log=None, keepalive_timeout=settings.http_idle_timeout_s)
