"""The web app's pages as files and URLs (no browser): every page loads without a login under the strict CSP,
refers only to files that exist, and has no inline script or style for the CSP to refuse."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import aiohttp
import pytest

from web.pages import PAGES, STATIC_DIR

PAGE_URLS = [
    "/",
    "/login",
    "/signup",
    "/dashboard",
    "/interviews/new",
    "/interviews/3f2b5c1e-0000-4000-8000-000000000000",
    "/interviews/3f2b5c1e-0000-4000-8000-000000000000/call",
    "/history",
    "/profile",
]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_scripts = 0
        self.styles = 0
        self.style_attributes = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("src", "href"):
            if (values.get(name) or "").startswith("/static/"):
                self.refs.append(values[name])
        if tag == "script":
            assert values.get("type") == "module", "scripts are ES modules"
            if not values.get("src"):
                self.inline_scripts += 1
        if tag == "style":
            self.styles += 1
        if "style" in values:
            self.style_attributes += 1
        self.handlers += [name for name in values if name.startswith("on")]


@pytest.mark.parametrize("path", PAGE_URLS)
async def test_every_page_loads_without_a_login(server, path):
    async with aiohttp.ClientSession() as http, http.get(server.url + path, allow_redirects=False) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert '<script type="module"' in await response.text()


@pytest.mark.parametrize("filename", sorted(set(PAGES.values())))
def test_pages_refer_to_existing_files_and_hold_nothing_inline(filename):
    parser = _Refs()
    parser.feed((STATIC_DIR / filename).read_text())
    assert parser.refs, "each page has its stylesheet and its script"
    for ref in parser.refs:
        assert (STATIC_DIR / ref.removeprefix("/static/")).is_file(), ref
    assert parser.inline_scripts == 0 and parser.styles == 0 and parser.style_attributes == 0
    assert parser.handlers == [], "no inline event handlers"


def test_scripts_import_only_modules_that_exist():
    for script in (STATIC_DIR / "js").glob("*.js"):
        for target in re.findall(r"""from\s+["'](\./[^"']+)["']""", script.read_text()):
            assert (script.parent / target).is_file(), f"{script.name} imports {target}"


async def test_config_gives_the_browser_its_ice_servers(server):
    async with aiohttp.ClientSession() as http, http.get(server.url + "/api/config") as response:
        assert response.status == 200
        assert await response.json() == {"ice_servers": server.settings.ice_servers}
