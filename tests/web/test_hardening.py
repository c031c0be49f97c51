"""HTTP hardening, as a client (or an attacker) sees it: malformed input is a clear 400 on SQLite and PostgreSQL
alike, never a 500; operator endpoints and TURN credentials are not handed to anyone; slow clients do not keep
sockets; look-alike emails are one account and common passwords are refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import update

from db.engine import create_engine
from db.models import User
from tests.conftest import RunningServer, start_server, test_settings
from web import cli
from web.turn import server_ice_servers

TOKEN = "operator-secret-token"
PASSWORD = "correct horse battery"
TURN_SECRET = "coturn-static-auth-secret"
ICE_SERVERS = [
    {"urls": "stun:stun.example.org:3478"},
    {
        "urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"],
        "username": "static-user",
        "credential": "static-password",
    },
]


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def new_email() -> str:
    return f"user-{secrets.token_hex(5)}@example.org"


def signup_body(**fields) -> dict:
    return {
        "email": new_email(),
        "password": PASSWORD,
        "full_name": "Ada Lovelace",
        "target_role": "Data Scientist",
        "experience_level": "senior",
        **fields,
    }


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs) -> tuple[int, dict]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


def error_code(data: dict) -> str:
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message"}, data
    return data["error"]["code"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def platform(request, tmp_path_factory, postgres_cluster) -> AsyncIterator[RunningServer]:
    """A server on SQLite, then the same on PostgreSQL."""
    overrides = {}
    if request.param == "postgres":
        name = f"hardening_{secrets.token_hex(4)}"
        await postgres_cluster.create_database(name)
        overrides["database_url"] = postgres_cluster.url(name)
    directory = tmp_path_factory.mktemp(f"hardening-{request.param}")
    runner, running = await start_server(test_settings(directory, **overrides))
    yield running
    await runner.cleanup()


@pytest.fixture(scope="module")
async def operated(tmp_path_factory) -> AsyncIterator[RunningServer]:
    """A server as an operator runs it behind a TLS proxy on this host: a status token, a TURN secret, STUN
    and TURN servers, and 127.0.0.1 as the trusted proxy (so a forwarded address stands for a remote client)."""
    settings = test_settings(
        tmp_path_factory.mktemp("operated"),
        status_token=TOKEN,
        turn_secret=TURN_SECRET,
        turn_credential_ttl_s=600,
        ice_servers=ICE_SERVERS,
        trusted_proxies=["127.0.0.1"],
    )
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


# ---------------------------------------------------------------------------------------------- item 6: JSON


async def test_deeply_nested_json_is_a_clear_400_and_nothing_crashes(server, caplog):
    nested = b"[" * 1000 + b"]" * 1000
    caplog.set_level(logging.ERROR)
    async with client() as http:
        for path in ("/api/auth/login", "/api/auth/signup"):
            for body in (nested, b"[" * 100_000, b'{"a":' * 5000):
                status, data = await call(
                    http, "POST", f"{server.url}{path}", data=body, headers={"Content-Type": "application/json"}
                )
                assert status == 400 and error_code(data) == "invalid_json", (path, data)
        status, _ = await call(http, "POST", f"{server.url}/api/auth/signup", json=signup_body())
        assert status == 201
        status, data = await call(
            http,
            "POST",
            f"{server.url}/api/interviews/create",
            data=nested,
            headers={"Content-Type": "application/json"},
        )
        assert status == 400 and error_code(data) == "invalid_json"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no error was logged"


# ---------------------------------------------------------------------------------------------- item 7: NUL


@pytest.mark.parametrize("field", ["email", "full_name", "target_role"], ids=["email", "full_name", "target_role"])
async def test_a_nul_or_control_character_in_signup_is_a_400_on_both_databases(platform, field):
    async with client() as http:
        for value in ("Ada\x00Lovelace", "Ada\nLovelace", "Ada\x7f"):
            if field == "email":
                value = f"{value.replace(' ', '')}@example.org"
            status, data = await call(
                http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(**{field: value})
            )
            assert status == 400 and error_code(data) == "invalid_field", data
            assert field in data["error"]["message"]


async def test_a_nul_in_the_login_email_is_a_400_on_both_databases(platform):
    async with client() as http:
        for email in ("ada\x00@example.org", "\x00", "ada@example.org\x00' OR 1=1 --"):
            status, data = await call(
                http, "POST", f"{platform.url}/api/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert status == 400 and error_code(data) == "invalid_field", data


async def test_a_nul_in_the_profile_or_the_interview_role_is_a_400_and_nothing_changes(platform):
    async with client() as http:
        status, _ = await call(http, "POST", f"{platform.url}/api/auth/signup", json=signup_body())
        assert status == 201
        for change in ({"full_name": "Ada\x00"}, {"target_role": "Data\x00Scientist"}):
            status, data = await call(http, "PATCH", f"{platform.url}/api/user/profile", json=change)
            assert status == 400 and error_code(data) == "invalid_field", data
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert data["user"]["full_name"] == "Ada Lovelace" and data["user"]["target_role"] == "Data Scientist"

        body = {"role": "Data\x00Scientist", "interview_type": "technical", "duration_minutes": 15}
        status, data = await call(http, "POST", f"{platform.url}/api/interviews/create", json=body)
        assert status == 400 and error_code(data) == "invalid_field", data
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert data["user"]["interviews_remaining"] == 3, "no credit was spent"

        # Ordinary Unicode is welcome: accents, other scripts, emoji sequences (with their zero-width joiners).
        change = {"full_name": "Zoë Ωmega 李 👩\u200d💻", "target_role": "Ingénieure"}
        status, data = await call(http, "PATCH", f"{platform.url}/api/user/profile", json=change)
        assert status == 200 and data["user"]["full_name"] == change["full_name"], data


async def test_a_lone_surrogate_is_a_400_not_a_crash(platform):
    # JSON may carry "\ud800" alone; it cannot become UTF-8, for the database or for the password hash.
    template = '{"email": "%s", "password": "%s", "full_name": "Ada", "target_role": "R", "experience_level": "mid"}'
    bodies = [template % (new_email(), "long enough \\ud800"), template % ("ada\\udfff@example.org", PASSWORD)]
    async with client() as http:
        for body in bodies:
            headers = {"Content-Type": "application/json"}
            status, data = await call(http, "POST", f"{platform.url}/api/auth/signup", data=body, headers=headers)
            assert status == 400 and error_code(data) == "invalid_field", (body, data)


# ---------------------------------------------------------------------------------------------- item 8: tokens


async def test_a_non_ascii_bearer_token_is_a_401_not_a_crash(operated):
    async with aiohttp.ClientSession() as http:
        for header in ("Bearer é", "Bearer токен", f"Bearer {TOKEN}é"):
            async with http.get(f"{operated.url}/api/status", headers={"Authorization": header}) as response:
                assert response.status == 401, header
                assert response.headers["WWW-Authenticate"] == "Bearer"
            async with http.get(
                f"{operated.url}/metrics",
                headers={"Authorization": header, "X-Forwarded-For": "198.51.100.7"},
            ) as response:
                assert response.status == 401, header
        async with http.get(f"{operated.url}/api/status", headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200


# ---------------------------------------------------------------------------------------------- item 9: headers


async def test_hsts_is_sent_over_https_through_the_trusted_proxy_and_only_then(operated, server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{operated.url}/healthz", headers={"X-Forwarded-Proto": "https"}) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        async with http.get(f"{operated.url}/login", headers={"X-Forwarded-Proto": "https"}) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        async with http.get(f"{operated.url}/healthz") as response:
            assert "Strict-Transport-Security" not in response.headers, "plain HTTP: browsers ignore it anyway"
        # From a client that is not a trusted proxy the header is not believed.
        async with http.get(f"{server.url}/healthz", headers={"X-Forwarded-Proto": "https"}) as response:
            assert "Strict-Transport-Security" not in response.headers


async def test_the_server_header_names_no_software_versions(server):
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/healthz", "/api/user/profile", "/no/such/page", "/static/css/app.css", "/metrics"):
            async with http.get(f"{server.url}{path}") as response:
                value = response.headers.get("Server", "")
                assert "Python" not in value and "aiohttp" not in value, (path, value)
                assert value == "mock-interviewer", (path, value)


async def test_metrics_are_for_allowed_networks_or_the_status_token(operated):
    remote = {"X-Forwarded-For": "198.51.100.7"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{operated.url}/metrics") as response:
            assert response.status == 200, "localhost is in the default METRICS_ALLOW"
            assert "mock_interviewer_http_requests_total" in await response.text()
        # A proxy on this host that is not a trusted one passes the public name on: not a local scraper.
        async with http.get(f"{operated.url}/metrics", headers={"Host": "interview.example.org"}) as response:
            assert response.status == 401
        async with http.get(f"{operated.url}/metrics", headers=remote) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert error_code(await response.json()) == "unauthorized"
        async with http.get(
            f"{operated.url}/metrics", headers={**remote, "Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status == 200
            assert "mock_interviewer_http_requests_total" in await response.text()


async def test_metrics_allow_names_the_networks_that_may_scrape(tmp_path):
    settings = test_settings(tmp_path, trusted_proxies=["127.0.0.1"], metrics_allow="10.0.0.0/8, 192.0.2.0/24")
    runner, running = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{running.url}/metrics", headers={"X-Forwarded-For": "192.0.2.9"}) as response:
                assert response.status == 200
            for outsider in ({"X-Forwarded-For": "198.51.100.7"}, {}):
                async with http.get(f"{running.url}/metrics", headers=outsider) as response:
                    assert response.status == 403, outsider
                    assert error_code(await response.json()) == "metrics_forbidden"
    finally:
        await runner.cleanup()


async def test_turn_credentials_are_short_lived_and_only_for_logged_in_users(operated):
    async with client() as http:
        status, data = await call(http, "GET", f"{operated.url}/api/config")
        assert status == 200
        assert data == {"ice_servers": [{"urls": "stun:stun.example.org:3478"}]}, "no TURN, no credentials"
        assert "static-password" not in str(data)

        status, signed_up = await call(http, "POST", f"{operated.url}/api/auth/signup", json=signup_body())
        assert status == 201
        user_id = signed_up["user"]["id"]
        before = time.time()
        status, data = await call(http, "GET", f"{operated.url}/api/config")
        stun, turn = data["ice_servers"]
        assert stun == {"urls": "stun:stun.example.org:3478"}
        assert turn["urls"] == ICE_SERVERS[1]["urls"]
        expiry, _, named = turn["username"].partition(":")
        assert named == user_id
        assert before + 600 - 5 <= int(expiry) <= time.time() + 600 + 1
        expected = base64.b64encode(
            hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
        ).decode()
        assert turn["credential"] == expected, "coturn's use-auth-secret check"
        assert "static-password" not in str(data)


def test_the_servers_own_side_of_a_call_gets_turn_credentials_of_its_own(operated):
    servers = server_ice_servers(operated.settings, "user-1")
    assert servers[0] == {"urls": "stun:stun.example.org:3478"}
    expiry, _, named = servers[1]["username"].partition(":")
    assert named == "user-1" and int(expiry) > time.time()
    expected = hmac.new(TURN_SECRET.encode(), servers[1]["username"].encode(), hashlib.sha1).digest()
    assert servers[1]["credential"] == base64.b64encode(expected).decode()
    assert server_ice_servers(operated.settings, None)[1]["username"].endswith(":server")


async def test_without_a_token_the_status_needs_a_loopback_host_header(server):
    port = server.url.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1.nip.io", "localhost.attacker.example"):
            async with http.get(f"{server.url}/api/status", headers={"Host": host}) as response:
                assert response.status == 403, host
                assert error_code(await response.json()) == "status_local_only"
        for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", "127.1.2.3", f"[::1]:{port}"):
            async with http.get(f"{server.url}/api/status", headers={"Host": host}) as response:
                assert response.status == 200, host


# ---------------------------------------------------------------------------------------------- item 10: timeouts

IDLE_S = 1.0


@pytest.fixture
async def impatient(tmp_path) -> AsyncIterator[RunningServer]:
    """A server with one-second idle and body timeouts."""
    settings = test_settings(tmp_path, http_idle_timeout_s=IDLE_S, http_body_timeout_s=IDLE_S)
    runner, running = await start_server(settings)
    yield running
    await runner.cleanup()


async def open_socket(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = server.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def seconds_until_closed(reader: asyncio.StreamReader, limit: float = 10 * IDLE_S) -> tuple[float, bytes]:
    """How long until the server closes the connection, and what it sent before."""
    started = time.monotonic()
    received = b""
    async with asyncio.timeout(limit):
        while chunk := await reader.read(65536):
            received += chunk
    return time.monotonic() - started, received


async def test_an_idle_socket_is_closed_after_the_idle_timeout(impatient):
    reader, writer = await open_socket(impatient)
    try:
        elapsed, received = await seconds_until_closed(reader)
    finally:
        writer.close()
    assert received == b"" and elapsed <= 2 * IDLE_S + 0.5


async def test_a_request_whose_headers_never_end_is_closed_after_the_idle_timeout(impatient):
    reader, writer = await open_socket(impatient)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()

    async def trickle() -> None:
        # Slowloris: one more header line now and then, never the blank line that ends the headers.
        for number in range(100):
            writer.write(f"X-Slow-{number}: a\r\n".encode())
            await writer.drain()
            await asyncio.sleep(IDLE_S / 4)

    trickling = asyncio.create_task(trickle())
    try:
        elapsed, received = await seconds_until_closed(reader)
    finally:
        trickling.cancel()
        writer.close()
    assert received == b"" and elapsed <= 2 * IDLE_S + 0.5


async def test_a_keep_alive_connection_left_idle_is_closed(impatient):
    reader, writer = await open_socket(impatient)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    try:
        elapsed, received = await seconds_until_closed(reader)
    finally:
        writer.close()
    assert received.startswith(b"HTTP/1.1 200") and elapsed <= 2 * IDLE_S + 0.5


async def test_a_slow_body_gets_a_408(impatient):
    reader, writer = await open_socket(impatient)
    head = (
        "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n"
    )
    writer.write(head.encode() + b'{"email": "slow')
    await writer.drain()
    started = time.monotonic()
    try:
        async with asyncio.timeout(10 * IDLE_S):
            status_line = await reader.readline()
            headers = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
    assert "connection: close" in headers
    assert time.monotonic() - started <= 2 * IDLE_S + 0.5


# ---------------------------------------------------------------------------------------------- item 12: accounts


async def test_look_alike_emails_are_one_account(platform):
    email = new_email()
    local, domain = email.split("@")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in local) + "@" + domain
    async with client() as http:
        status, data = await call(http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(email=email))
        assert status == 201
        for look_alike in (
            f"{local}\u200b@{domain}",  # a zero-width space
            f"\u2060{email}\ufeff",  # a word joiner, a byte-order mark
            fullwidth.upper(),
            f"\u00a0{email}\u00a0",  # no-break spaces around it
        ):
            status, data = await call(
                http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(email=look_alike)
            )
            assert status == 409 and error_code(data) == "email_taken", (look_alike, data)
        # A no-break space inside the address is not an email address.
        status, data = await call(
            http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(email=f"{local}\u00a0@{domain}")
        )
        assert status == 400 and error_code(data) == "invalid_field", data

    async with client() as http:
        for spelling in (fullwidth, f"{local}\u200b@{domain}"):
            status, data = await call(
                http, "POST", f"{platform.url}/api/auth/login", json={"email": spelling, "password": PASSWORD}
            )
            assert status == 200 and data["user"]["email"] == email, (spelling, data)


async def test_an_account_made_before_look_alikes_were_folded_still_logs_in_with_its_spelling(platform):
    email = new_email()
    local, domain = email.split("@")
    legacy = f"{local}\u200b@{domain}"
    async with client() as http:
        status, real = await call(http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(email=email))
        assert status == 201
        status, old = await call(
            http, "POST", f"{platform.url}/api/auth/signup", json=signup_body(password="another long secret")
        )
        assert status == 201
    engine = create_engine(platform.settings.resolved_database_url)
    try:
        async with engine.begin() as connection:
            statement = update(User).where(User.id == uuid.UUID(old["user"]["id"])).values(email=legacy)
            await connection.execute(statement)
    finally:
        await engine.dispose()
    async with client() as http:
        for password, owner in (("another long secret", old), (PASSWORD, real)):
            status, data = await call(
                http, "POST", f"{platform.url}/api/auth/login", json={"email": legacy, "password": password}
            )
            assert status == 200 and data["user"]["id"] == owner["user"]["id"], data


@pytest.mark.parametrize("password", ["12345678", "password", "Password1", "qwertyuiop", " iloveyou "])
async def test_a_common_password_is_refused_at_signup(server, password):
    async with client() as http:
        status, data = await call(http, "POST", f"{server.url}/api/auth/signup", json=signup_body(password=password))
    assert status == 400 and error_code(data) == "weak_password", data
    assert "common" in data["error"]["message"]


def test_the_cli_refuses_a_common_password_too(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # were it accepted, the user would go to a database here
    assert cli.main(["users", "create", "--email", "ops@example.org", "--password", "12345678"]) == 2
    assert "common" in capsys.readouterr().err
