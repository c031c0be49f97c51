"""X-Forwarded-For and X-Forwarded-Proto are believed only from TRUSTED_PROXIES: for the client address (rate
limits, the localhost-only status) and the scheme (Secure cookies)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import aiohttp
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from tests.conftest import start_server, test_settings
from web import appkeys
from web.proxies import client_ip, is_https


def signup_body(email: str) -> dict:
    return {
        "email": email,
        "password": "a long password 123",
        "full_name": "Proxy Candidate",
        "target_role": "Engineer",
        "experience_level": "mid",
    }


async def requests_allowed(http: aiohttp.ClientSession, url: str, headers: dict[str, str], count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        async with http.get(f"{url}/api/config", headers=headers) as response:
            statuses.append(response.status)
    return statuses


async def test_forwarded_headers_from_a_trusted_proxy_name_the_client_and_the_scheme(tmp_path):
    settings = test_settings(tmp_path, trusted_proxies=["127.0.0.1"], rate_limit_per_minute=5)
    runner, server = await start_server(settings)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            first = {"X-Forwarded-For": "198.51.100.1"}
            assert await requests_allowed(http, server.url, first, 6) == [200] * 5 + [429]
            other = {"X-Forwarded-For": "198.51.100.2"}
            assert await requests_allowed(http, server.url, other, 1) == [200]

            async with http.post(
                f"{server.url}/api/auth/signup",
                json=signup_body("tls@example.org"),
                headers={"X-Forwarded-For": "198.51.100.3", "X-Forwarded-Proto": "https"},
            ) as response:
                assert response.status == 201
                assert response.cookies["mi_session"]["secure"]
            # The status is for localhost only (no STATUS_TOKEN): a client forwarded from elsewhere is refused.
            async with http.get(f"{server.url}/api/status", headers={"X-Forwarded-For": "198.51.100.4"}) as response:
                assert response.status == 403
            async with http.get(f"{server.url}/api/status") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


async def test_forwarded_headers_from_anyone_else_are_ignored(tmp_path):
    settings = test_settings(tmp_path, trusted_proxies=["10.9.9.9"], rate_limit_per_minute=5)
    runner, server = await start_server(settings)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            statuses = []
            for n in range(6):
                headers = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
                statuses += await requests_allowed(http, server.url, headers, 1)
            assert statuses == [200] * 5 + [429], "every request counts for 127.0.0.1, whatever it claims"
    finally:
        await runner.cleanup()
    runner, server = await start_server(test_settings(tmp_path, trusted_proxies=["10.9.9.9"]))
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(
                f"{server.url}/api/auth/signup",
                json=signup_body("plain@example.org"),
                headers={"X-Forwarded-Proto": "https"},
            ) as response:
                assert response.status == 201
                assert not response.cookies["mi_session"]["secure"]
            async with http.get(f"{server.url}/api/status", headers={"X-Forwarded-For": "198.51.100.9"}) as response:
                assert response.status == 200
    finally:
        await runner.cleanup()


def request_from(peer: str, trusted: list[str], headers: dict[str, str]) -> web.Request:
    app = web.Application()
    app[appkeys.SETTINGS] = test_settings(Path("/nonexistent"), trusted_proxies=trusted)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (peer, 40000) if name == "peername" else default
    return make_mocked_request("GET", "/", headers=headers, app=app, transport=transport)


def test_the_client_is_the_last_address_no_trusted_proxy_added():
    chain = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7, 10.0.0.5"}
    assert client_ip(request_from("127.0.0.1", ["127.0.0.1", "10.0.0.0/8"], chain)) == "198.51.100.7"
    assert client_ip(request_from("127.0.0.1", ["127.0.0.1"], chain)) == "10.0.0.5"
    assert client_ip(request_from("192.0.2.50", ["127.0.0.1"], chain)) == "192.0.2.50"
    assert client_ip(request_from("127.0.0.1", ["127.0.0.1", "10.0.0.0/8"], {"X-Forwarded-For": "junk, 10.0.0.5"})) == (
        "10.0.0.5"
    )
    assert client_ip(request_from("127.0.0.1", ["127.0.0.1"], {})) == "127.0.0.1"
    assert is_https(request_from("127.0.0.1", ["127.0.0.1"], {"X-Forwarded-Proto": "https"}))
    assert not is_https(request_from("192.0.2.50", ["127.0.0.1"], {"X-Forwarded-Proto": "https"}))
