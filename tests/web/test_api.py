"""The platform's HTTP API against a real server, on SQLite and on PostgreSQL: every endpoint's success and
failure paths, as a client sees them."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import numpy as np
import pytest
from sqlalchemy import update

from db.engine import create_engine
from db.models import AuthSession
from signaling.client.webrtc import LoopbackCall
from tests.conftest import RunningServer, start_server, test_settings
from voice_agent.events import LineCommitted, SpokenLine
from web import appkeys
from web.admission import CallGrant, admit
from web.calls import TranscriptWriter
from web.security import read_token

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def platform(request, tmp_path_factory, postgres_cluster) -> AsyncIterator[RunningServer]:
    """A server on SQLite, then the same on PostgreSQL."""
    overrides = {}
    if request.param == "postgres":
        name = f"api_{secrets.token_hex(4)}"
        await postgres_cluster.create_database(name)
        overrides["database_url"] = postgres_cluster.url(name)
    runner, running = await start_server(test_settings(tmp_path_factory.mktemp(f"api-{request.param}"), **overrides))
    yield running
    await runner.cleanup()


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def new_email() -> str:
    return f"user-{secrets.token_hex(5)}@example.org"


async def signup(http: aiohttp.ClientSession, url: str, email: str | None = None, **fields) -> dict:
    body = {
        "email": email or new_email(),
        "password": PASSWORD,
        "full_name": "Ada Lovelace",
        "target_role": "Data Scientist",
        "experience_level": "senior",
        **fields,
    }
    async with http.post(f"{url}/api/auth/signup", json=body) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["user"]


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs) -> tuple[int, dict]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def new_interview(http: aiohttp.ClientSession, url: str, **fields) -> dict:
    body = {"role": "Data Scientist", "interview_type": "technical", "duration_minutes": 15, **fields}
    status, data = await call(http, "POST", f"{url}/api/interviews/create", json=body)
    assert status == 201, data
    return data["interview"]


def error_code(data: dict) -> str:
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message"}, data
    return data["error"]["code"]


# ---------------------------------------------------------------------------------------------- accounts


async def test_signup_logs_in_with_a_safe_cookie_and_shows_the_profile(platform):
    async with client() as http:
        email = new_email()
        async with http.post(
            f"{platform.url}/api/auth/signup",
            json={
                "email": f"  {email.upper()} ",
                "password": PASSWORD,
                "full_name": "Ada Lovelace",
                "target_role": "Data Scientist",
                "experience_level": "senior",
            },
        ) as response:
            assert response.status == 201
            user = (await response.json())["user"]
            cookie = response.cookies["mi_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]  # localhost: no TLS
        assert user["email"] == email and user["interviews_remaining"] == 3 and "password_hash" not in user
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert status == 200 and data["user"]["id"] == user["id"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"password": "short"}, "weak_password"),
        ({"email": "same.as.password@example.org", "password": "same.as.password@example.org"}, "weak_password"),
        ({"email": "not-an-email"}, "invalid_field"),
        ({"experience_level": "guru"}, "invalid_field"),
        ({"full_name": 5}, "invalid_field"),
        ({"interviews_remaining": 99}, "invalid_field"),
        ({"full_name": ""}, "invalid_field"),
    ],
)
async def test_signup_refuses_bad_input_with_a_clear_error(platform, change, code):
    body = {
        "email": new_email(),
        "password": PASSWORD,
        "full_name": "Ada",
        "target_role": "Data Scientist",
        "experience_level": "mid",
        **change,
    }
    async with client() as http:
        status, data = await call(http, "POST", f"{platform.url}/api/auth/signup", json=body)
    assert status == 400 and error_code(data) == code, data


async def test_an_email_has_one_account_whatever_its_case(platform):
    async with client() as http:
        email = new_email()
        await signup(http, platform.url, email)
        status, data = await call(
            http,
            "POST",
            f"{platform.url}/api/auth/signup",
            json={
                "email": email.upper(),
                "password": PASSWORD,
                "full_name": "B",
                "target_role": "R",
                "experience_level": "mid",
            },
        )
    assert status == 409 and error_code(data) == "email_taken"


async def test_login_errors_never_tell_whether_the_email_exists(platform):
    async with client() as http:
        email = new_email()
        await signup(http, platform.url, email)
    async with client() as http:
        wrong_password = await call(
            http, "POST", f"{platform.url}/api/auth/login", json={"email": email, "password": "not the one!"}
        )
        unknown_email = await call(
            http, "POST", f"{platform.url}/api/auth/login", json={"email": new_email(), "password": PASSWORD}
        )
        assert wrong_password == unknown_email
        assert wrong_password[0] == 401 and error_code(wrong_password[1]) == "invalid_credentials"
        status, data = await call(
            http, "POST", f"{platform.url}/api/auth/login", json={"email": email.upper(), "password": PASSWORD}
        )
        assert status == 200 and data["user"]["email"] == email


async def test_logout_revokes_the_session_so_a_replayed_cookie_is_refused(platform):
    async with client() as http:
        await signup(http, platform.url)
        token = next(c.value for c in http.cookie_jar if c.key == "mi_session")
        status, _ = await call(http, "POST", f"{platform.url}/api/auth/logout")
        assert status == 200
        assert not any(c.key == "mi_session" and c.value for c in http.cookie_jar)
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert status == 401 and error_code(data) == "unauthorized"
    async with aiohttp.ClientSession(cookies={"mi_session": token}) as replay:
        status, _ = await call(replay, "GET", f"{platform.url}/api/user/profile")
        assert status == 401


async def test_a_session_idle_for_more_than_seven_days_is_refused_and_activity_slides_it(platform):
    async with client() as http:
        user = await signup(http, platform.url)
        token = next(c.value for c in http.cookie_jar if c.key == "mi_session")
    claims = read_token(_secret(platform), token)
    db = platform.db
    # Six days idle: still valid, and the use slides it forward.
    await age_session(platform, claims.session_id, timedelta(days=6))
    async with aiohttp.ClientSession(cookies={"mi_session": token}) as http:
        status, _ = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert status == 200
    session = await db.get_auth_session(claims.session_id)
    assert datetime.now(UTC) - session.last_seen_at < timedelta(minutes=1)
    # Eight days idle: refused.
    await age_session(platform, claims.session_id, timedelta(days=8))
    async with aiohttp.ClientSession(cookies={"mi_session": token}) as http:
        status, _ = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert status == 401
    assert user["id"] == str(claims.user_id)


async def age_session(platform: RunningServer, session_id: uuid.UUID, idle: timedelta) -> None:
    """Pretend the session was last used ``idle`` ago (straight in the database: time does not pass in tests)."""
    engine = create_engine(platform.settings.resolved_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=datetime.now(UTC) - idle)
            )
    finally:
        await engine.dispose()


def _secret(platform: RunningServer) -> str:
    return platform.app[appkeys.SECRET_KEY].get()


async def test_a_forged_or_foreign_token_is_refused(platform):
    import jwt

    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "exp": 4102444800},
        "a-key-that-is-not-the-servers-but-long-enough",
        algorithm="HS256",
    )
    for token in (forged, "garbage", ""):
        async with aiohttp.ClientSession(cookies={"mi_session": token}) as http:
            status, _ = await call(http, "GET", f"{platform.url}/api/user/profile")
            assert status == 401


# ---------------------------------------------------------------------------------------------- profile


async def test_profile_can_be_edited_but_not_the_credits(platform):
    async with client() as http:
        await signup(http, platform.url)
        status, data = await call(
            http,
            "PATCH",
            f"{platform.url}/api/user/profile",
            json={"full_name": "Ada King", "target_role": "ML Engineer", "experience_level": "mid"},
        )
        assert status == 200
        assert (data["user"]["full_name"], data["user"]["target_role"], data["user"]["experience_level"]) == (
            "Ada King",
            "ML Engineer",
            "mid",
        )
        for body in ({"interviews_remaining": 100}, {"experience_level": "wizard"}, {"full_name": None}):
            status, data = await call(http, "PATCH", f"{platform.url}/api/user/profile", json=body)
            if body == {"full_name": None}:
                assert status == 200  # nothing to change
                continue
            assert status == 400 and error_code(data) == "invalid_field"
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert data["user"]["interviews_remaining"] == 3


# ---------------------------------------------------------------------------------------------- interviews


async def test_creating_interviews_spends_credits_then_says_402(platform):
    async with client() as http:
        await signup(http, platform.url)
        for remaining in (2, 1, 0):
            status, data = await call(
                http,
                "POST",
                f"{platform.url}/api/interviews/create",
                json={"role": "Backend Engineer", "interview_type": "mixed", "duration_minutes": 30},
            )
            assert status == 201 and data["interviews_remaining"] == remaining
            assert data["interview"]["status"] == "in_progress"
            assert data["interview"]["experience_level"] == "senior"
        status, data = await call(
            http,
            "POST",
            f"{platform.url}/api/interviews/create",
            json={"role": "Backend Engineer", "interview_type": "mixed", "duration_minutes": 30},
        )
        assert status == 402 and error_code(data) == "no_credits"


async def test_twenty_concurrent_creates_with_three_credits_make_exactly_three(platform):
    async with client() as http:
        await signup(http, platform.url)
        body = {"role": "SRE", "interview_type": "technical", "duration_minutes": 10}
        results = await asyncio.gather(
            *(call(http, "POST", f"{platform.url}/api/interviews/create", json=body) for _ in range(20))
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] * 3 + [402] * 17
        status, data = await call(http, "GET", f"{platform.url}/api/interviews/history")
        assert status == 200 and data["total"] == 3
        status, data = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert status == 200 and data["user"]["interviews_remaining"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"role": "SRE", "interview_type": "pairing", "duration_minutes": 10},
        {"role": "SRE", "interview_type": "technical", "duration_minutes": 0},
        {"role": "SRE", "interview_type": "technical", "duration_minutes": 61},
        {"role": "SRE", "interview_type": "technical", "duration_minutes": "10"},
        {"role": "", "interview_type": "technical", "duration_minutes": 10},
        {"interview_type": "technical", "duration_minutes": 10},
    ],
)
async def test_a_bad_interview_request_is_refused_and_spends_nothing(platform, body):
    async with client() as http:
        await signup(http, platform.url)
        status, data = await call(http, "POST", f"{platform.url}/api/interviews/create", json=body)
        assert status == 400 and error_code(data) == "invalid_field"
        _, profile = await call(http, "GET", f"{platform.url}/api/user/profile")
        assert profile["user"]["interviews_remaining"] == 3


async def test_history_is_newest_first_paginated_and_private(platform):
    async with client() as http, client() as other:
        await signup(http, platform.url)
        await signup(other, platform.url)
        created = [(await new_interview(http, platform.url, role=f"Role {i}"))["id"] for i in range(3)]
        await new_interview(other, platform.url)
        status, page = await call(http, "GET", f"{platform.url}/api/interviews/history?limit=2")
        assert status == 200 and page["total"] == 3 and page["limit"] == 2
        assert [item["id"] for item in page["items"]] == created[::-1][:2]
        status, page = await call(http, "GET", f"{platform.url}/api/interviews/history?limit=2&offset=2")
        assert [item["id"] for item in page["items"]] == created[:1]
        for query in ("limit=0", "limit=1000", "offset=-1", "limit=ten"):
            status, data = await call(http, "GET", f"{platform.url}/api/interviews/history?{query}")
            assert status == 400 and error_code(data) == "invalid_query"


async def test_two_users_cannot_read_or_change_each_others_interviews_feedback_or_calls(platform):
    async with client() as owner, client() as intruder:
        await signup(owner, platform.url)
        await signup(intruder, platform.url)
        interview = await new_interview(owner, platform.url)
        base = f"{platform.url}/api/interviews/{interview['id']}"
        for method, url, kwargs in [
            ("GET", base, {}),
            ("POST", f"{base}/complete", {}),
            ("GET", f"{platform.url}/api/feedback/{interview['id']}", {}),
            ("POST", f"{platform.url}/api/feedback/{interview['id']}/retry", {}),
            ("GET", f"{base}/recording", {}),
            ("POST", f"{base}/rtc", {"json": {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer"}}),
        ]:
            status, data = await call(intruder, method, url, **kwargs)
            assert status == 404 and error_code(data) == "not_found", (method, url)
            assert data["error"]["message"] == "No such interview.", (method, url)
        status, data = await call(owner, "GET", base)
        assert status == 200 and data["interview"]["status"] == "in_progress" and data["messages"] == []


async def test_an_aside_stored_by_the_transcript_writer_comes_back_as_an_aside_and_rejoins_as_one(platform):
    async with client() as http:
        user = await signup(http, platform.url)
        interview = await new_interview(http, platform.url)
        key = uuid.UUID(interview["id"])
        writer = TranscriptWriter(platform.db, key)
        now = datetime.now(UTC)
        for role, text, kind in [
            ("assistant", "Tell me about a system you built.", "turn"),
            ("user", "Let me think.", "turn"),
            ("assistant", "Sure, take your time.", "aside"),
            ("user", "I built a billing service.", "turn"),
        ]:
            writer.on_event(None, LineCommitted(SpokenLine(role, text, now, 1.0, kind=kind)))
        await writer.close()
        assert writer.stored == 4 and not writer.failed

        status, data = await call(http, "GET", f"{platform.url}/api/interviews/{interview['id']}")
        assert status == 200
        assert [(m["seq"], m["role"], m["kind"]) for m in data["messages"]] == [
            (1, "assistant", "turn"),
            (2, "user", "turn"),
            (3, "assistant", "aside"),
            (4, "user", "turn"),
        ]

        # A call that rejoins the interview gets the conversation with its kinds.
        db = platform.db
        grant = CallGrant(key, await db.get_user(uuid.UUID(user["id"])), await db.get_interview(key))
        plan = await admit(platform.app, grant)
        try:
            assert [(m.role, m.content, m.kind) for m in plan.history] == [
                ("assistant", "Tell me about a system you built.", "turn"),
                ("user", "Let me think.", "turn"),
                ("assistant", "Sure, take your time.", "aside"),
                ("user", "I built a billing service.", "turn"),
            ]
        finally:
            await plan.release()


async def test_an_unknown_or_malformed_interview_id_is_404(platform):
    async with client() as http:
        await signup(http, platform.url)
        for interview_id in (str(uuid.uuid4()), "not-a-uuid", "1"):
            status, data = await call(http, "GET", f"{platform.url}/api/interviews/{interview_id}")
            assert status == 404 and error_code(data) == "not_found"


async def test_an_interviews_recordings_are_listed_and_served_to_its_owner_by_call_in_ranges(platform):
    """What a call's recorder wrote through the app's store: listed with the interview, served whole, by call,
    and in byte ranges; clear 404s for a call that is not there and an interview that has no recording."""
    async with client() as http:
        await signup(http, platform.url)
        interview = await new_interview(http, platform.url)
        base = f"{platform.url}/api/interviews/{interview['id']}"
        status, data = await call(http, "GET", f"{base}/recording")
        assert (status, data["error"]["message"]) == (404, "This interview has no recording.")

        store = platform.app[appkeys.RECORDINGS]
        for call_id in ("aaaaaa01", "bbbbbb02"):
            recorder = store.recorder(interview["id"], call_id)
            await recorder.start()
            for _ in range(25):
                recorder.add_agent_frame(np.full(960, 1000 if call_id.startswith("a") else -1000, np.int16))
            await recorder.close()
        status, data = await call(http, "GET", base)
        assert status == 200
        assert [r["call_id"] for r in data["recordings"]] == ["aaaaaa01", "bbbbbb02"]
        first, second = (store.find(interview["id"], call_id) for call_id in ("aaaaaa01", "bbbbbb02"))
        assert data["recordings"][0] == {
            "call_id": "aaaaaa01",
            "url": f"/api/interviews/{interview['id']}/recording?call=aaaaaa01",
            "bytes": first.size,
        }

        async def fetch(url: str, **headers: str) -> tuple[int, bytes]:
            async with http.get(url, headers=headers) as response:
                if response.status < 300:
                    assert response.content_type == "audio/ogg"
                    assert response.headers["Cache-Control"] == "private, no-store"
                return response.status, await response.read()

        assert await fetch(f"{base}/recording") == (200, second.path.read_bytes())
        assert await fetch(platform.url + data["recordings"][0]["url"]) == (200, first.path.read_bytes())
        assert await fetch(f"{base}/recording?call=aaaaaa01", Range="bytes=0-9") == (206, first.path.read_bytes()[:10])
        for wanted, message in [("cccccc03", "This interview has no recording."), ("NOT-A-CALL", "No such recording.")]:
            status, data = await call(http, "GET", f"{base}/recording?call={wanted}")
            assert status == 404 and error_code(data) == "not_found" and data["error"]["message"] == message


async def test_completing_is_idempotent_and_feedback_says_where_it_is(platform):
    async with client() as http:
        await signup(http, platform.url)
        interview = await new_interview(http, platform.url)
        feedback_url = f"{platform.url}/api/feedback/{interview['id']}"
        status, data = await call(http, "GET", feedback_url)
        assert status == 409 and error_code(data) == "not_completed"
        first = await call(http, "POST", f"{platform.url}/api/interviews/{interview['id']}/complete")
        second = await call(http, "POST", f"{platform.url}/api/interviews/{interview['id']}/complete")
        assert first[0] == second[0] == 200
        assert first[1]["interview"]["status"] == "completed"
        assert first[1]["interview"]["completed_at"] == second[1]["interview"]["completed_at"]
        # The offline scorer is quick: the report may already be written by the time we ask.
        status, data = await call(http, "GET", feedback_url)
        assert (status, data["status"]) in {(202, "pending"), (200, "ready")}


async def test_unauthenticated_requests_are_401(platform):
    async with client() as http:
        for method, path in [
            ("GET", "/api/user/profile"),
            ("PATCH", "/api/user/profile"),
            ("POST", "/api/interviews/create"),
            ("GET", "/api/interviews/history"),
            ("GET", f"/api/interviews/{uuid.uuid4()}"),
            ("POST", f"/api/interviews/{uuid.uuid4()}/complete"),
            ("GET", f"/api/feedback/{uuid.uuid4()}"),
            ("POST", f"/api/interviews/{uuid.uuid4()}/rtc"),
        ]:
            status, data = await call(http, method, platform.url + path, json={})
            assert status == 401 and error_code(data) == "unauthorized", path


# ---------------------------------------------------------------------------------------------- the call endpoint


async def test_the_call_endpoint_refuses_garbage_and_closed_interviews(platform):
    async with client() as http:
        await signup(http, platform.url)
        interview = await new_interview(http, platform.url)
        rtc = f"{platform.url}/api/interviews/{interview['id']}/rtc"
        for body in (
            {"sdp": "this is not SDP", "type": "offer"},
            {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer"},
            {"sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "type": "offer"},
            {"sdp": 12, "type": "offer"},
            {"sdp": "v=0", "type": "answer"},
            {},
        ):
            status, data = await call(http, "POST", rtc, json=body)
            assert status == 400 and error_code(data) == "invalid_sdp", body
        await call(http, "POST", f"{platform.url}/api/interviews/{interview['id']}/complete")
        loopback = LoopbackCall(platform.url)
        try:
            await loopback.connect(http, interview["id"])
            raise AssertionError("a completed interview accepted a call")
        except Exception as exc:
            assert "409" in str(exc)
        finally:
            await loopback.close()


# ---------------------------------------------------------------------------------------------- protocol hygiene


async def test_malformed_json_wrong_content_type_and_oversized_bodies_are_clear_4xx(platform):
    async with client() as http:
        await signup(http, platform.url)
        url = f"{platform.url}/api/interviews/create"
        status, data = await call(http, "POST", url, data=b"{not json", headers={"Content-Type": "application/json"})
        assert status == 400 and error_code(data) == "invalid_json"
        status, data = await call(http, "POST", url, json=[1, 2, 3])
        assert status == 400 and error_code(data) == "invalid_json"
        status, data = await call(http, "POST", url, data=b"role=x", headers={"Content-Type": "text/plain"})
        assert status == 415 and error_code(data) == "unsupported_media_type"
        huge = {"role": "x" * (platform.settings.max_body_bytes + 10), "interview_type": "mixed", "duration_minutes": 5}
        status, data = await call(http, "POST", url, json=huge)
        assert status == 413 and error_code(data) == "payload_too_large"


async def test_unknown_routes_and_methods_answer_in_json(platform):
    async with client() as http:
        status, data = await call(http, "GET", f"{platform.url}/api/nothing-here")
        assert status == 404 and error_code(data) == "not_found"
        status, data = await call(http, "DELETE", f"{platform.url}/api/user/profile")
        assert status == 405 and error_code(data) == "method_not_allowed"


async def test_every_response_carries_the_security_headers(platform):
    async with client() as http:
        for path in ("/", "/api/user/profile", "/api/nothing-here"):
            async with http.get(platform.url + path) as response:
                csp = response.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                assert "frame-ancestors 'none'" in csp
                assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_state_changes_from_another_site_are_refused(platform):
    async with client() as http:
        await signup(http, platform.url)
        body = {"role": "SRE", "interview_type": "technical", "duration_minutes": 10}
        url = f"{platform.url}/api/interviews/create"
        status, data = await call(http, "POST", url, json=body, headers={"Origin": "https://evil.example"})
        assert status == 403 and error_code(data) == "forbidden_origin"
        status, data = await call(http, "POST", url, json=body, headers={"Sec-Fetch-Site": "cross-site"})
        assert status == 403
        status, _ = await call(http, "POST", url, json=body, headers={"Origin": platform.url})
        assert status == 201


async def test_rate_limits_answer_429_with_retry_after(tmp_path):
    runner, running = await start_server(test_settings(tmp_path, rate_limit_per_minute=8, auth_rate_limit_per_minute=3))
    try:
        async with client() as http:
            logins = [
                await call(http, "POST", f"{running.url}/api/auth/login", json={"email": "a@b.co", "password": "x"})
                for _ in range(4)
            ]
            assert [status for status, _ in logins] == [401, 401, 401, 429]
            async with http.get(f"{running.url}/api/user/profile") as response:
                statuses = [response.status]
            for _ in range(5):
                async with http.get(f"{running.url}/api/user/profile") as response:
                    statuses.append(response.status)
                    retry_after = response.headers.get("Retry-After")
            assert statuses[:4] == [401, 401, 401, 401] and statuses[-1] == 429
            assert retry_after is not None and 1 <= int(retry_after) <= 60
    finally:
        await runner.cleanup()
