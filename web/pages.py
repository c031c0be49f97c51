"""The candidate's web app: HTML pages for clean URLs, and the browser's call configuration.

Every page is a static file from ``web/static/``; none needs a login to load. Each page's script asks the API
who is logged in and sends a visitor without a login to ``/login?next=...``.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web import appkeys
from web.auth import current_auth
from web.turn import browser_ice_servers

STATIC_DIR = Path(__file__).parent / "static"

#: Clean URL -> the HTML file under ``web/static/`` that renders it. ``/interviews/new`` comes before
#: ``/interviews/{interview_id}`` so that it is never taken for an id.
PAGES: dict[str, str] = {
    "/": "index.html",
    "/login": "index.html",
    "/signup": "signup.html",
    "/dashboard": "dashboard.html",
    "/interviews/new": "new-interview.html",
    "/interviews/{interview_id}": "interview.html",
    "/interviews/{interview_id}/call": "call.html",
    "/history": "history.html",
    "/profile": "profile.html",
    "/status": "status.html",
}


def _page(filename: str):
    path = STATIC_DIR / filename

    async def handler(request: web.Request) -> web.FileResponse:
        # Pages are tiny and change with each release: always revalidate them.
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    handler.__name__ = f"page_{path.stem.replace('-', '_')}"
    return handler


async def get_config(request: web.Request) -> web.Response:
    """GET /api/config: what the browser needs to open a call (its STUN/TURN servers; TURN only with a login,
    see ``web.turn``)."""
    auth = await current_auth(request)
    user_id = str(auth.user.id) if auth is not None else None
    return web.json_response({"ice_servers": browser_ice_servers(request.app[appkeys.SETTINGS], user_id)})


def add_routes(app: web.Application) -> None:
    """Register the pages and ``GET /api/config``."""
    for url, filename in PAGES.items():
        app.router.add_get(url, _page(filename))
    app.router.add_get("/api/config", get_config)
