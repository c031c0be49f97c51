"""The aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from signaling import endpoints as signaling_endpoints
from signaling.aiortc_patches import restrict_host_addresses
from signaling.planner import CallPlanner, OpenCallPlanner
from signaling.registry import CallRegistry
from voice_agent.providers.registry import close_providers, load_providers
from web import appkeys
from web.errors import json_errors
from web.settings import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 256 * 1024


async def _providers_ctx(app: web.Application) -> AsyncIterator[None]:
    providers = await load_providers(app[appkeys.SETTINGS].provider_config())
    app[appkeys.PROVIDERS] = providers
    yield
    await close_providers(providers)


async def _calls_ctx(app: web.Application) -> AsyncIterator[None]:
    calls = CallRegistry()
    app[appkeys.CALLS] = calls
    yield
    await calls.close_all("server_shutdown")


async def _close_calls_on_shutdown(app: web.Application) -> None:
    await app[appkeys.CALLS].close_all("server_shutdown")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def create_app(settings: Settings, planner: CallPlanner | None = None) -> web.Application:
    """The whole server: signaling, API and pages, with its providers started and stopped by the app."""
    restrict_host_addresses(settings.media_addresses)
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[appkeys.SETTINGS] = settings
    app[appkeys.CALL_PLANNER] = planner or OpenCallPlanner()
    app.cleanup_ctx.append(_providers_ctx)
    app.cleanup_ctx.append(_calls_ctx)
    app.on_shutdown.append(_close_calls_on_shutdown)
    signaling_endpoints.add_routes(app)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
    return app
