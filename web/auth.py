"""Accounts and sessions: signup, login, logout, and who is calling.

A login is a server-side session row plus a signed JWT naming the user and that row, in an HttpOnly,
SameSite=Lax cookie (Secure unless the server only listens on localhost). The session slides: each use within
the idle window keeps it alive, and it expires after ``SESSION_IDLE_DAYS`` without activity. Logout revokes the
row, so a replayed cookie is refused even though its signature is still valid.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from db.repository import EmailTaken
from web import appkeys, proxies
from web.errors import ApiError, read_json
from web.middlewares import client_ip
from web.schemas import LoginBody, SignupBody, parse_body
from web.security import (
    SESSION_COOKIE,
    SessionClaims,
    hash_password,
    issue_token,
    password_problem,
    read_token,
    verify_password,
)
from web.values import enum_value

#: A session's last-seen time (and its cookie) is refreshed at most this often.
TOUCH_EVERY = timedelta(minutes=5)
_AUTH_KEY = web.RequestKey("auth", object)
_REFRESH_KEY = web.RequestKey("refresh_cookie", object)


@dataclass(slots=True)
class Auth:
    """The caller: their user row and the session they came with."""

    user: Any
    session: Any


def profile(user: Any) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {
        "id": str(user.id),
        "email": user.email,
        "full_name": user.full_name,
        "target_role": user.target_role,
        "experience_level": enum_value(user.experience_level),
        "interviews_remaining": user.interviews_remaining,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


async def _in_thread(function: Any, *args: Any) -> Any:
    # argon2 costs tens of milliseconds of CPU by design: never on the event loop.
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def current_auth(request: web.Request) -> Auth | None:
    """The caller's login, or None (no cookie, bad signature, unknown, revoked or idle session)."""
    if _AUTH_KEY in request:
        return request[_AUTH_KEY]
    auth = await _resolve(request)
    request[_AUTH_KEY] = auth
    return auth


async def require_auth(request: web.Request) -> Auth:
    """The caller's login, or a 401."""
    auth = await current_auth(request)
    if auth is None:
        raise ApiError(401, "unauthorized", "Log in first.")
    return auth


async def _resolve(request: web.Request) -> Auth | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    app = request.app
    claims = read_token(app[appkeys.SECRET_KEY].get(), token)
    if claims is None:
        return None
    db = app[appkeys.DATABASE]
    found = await db.get_auth_session_and_user(claims.session_id)
    if found is None:
        return None
    session, user = found
    if session.revoked_at is not None or session.user_id != claims.user_id:
        return None
    now = datetime.now(UTC)
    idle = timedelta(days=app[appkeys.SETTINGS].session_idle_days)
    if now - session.last_seen_at > idle:
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        await db.touch_auth_session(session.id, now)
        request[_REFRESH_KEY] = claims  # re-issued with a fresh lifetime on the way out
    return Auth(user, session)


def set_session_cookie(request: web.Request, response: web.StreamResponse, claims: SessionClaims) -> None:
    """The login cookie, valid for the idle window."""
    settings = request.app[appkeys.SETTINGS]
    lifetime = timedelta(days=settings.session_idle_days)
    token = issue_token(request.app[appkeys.SECRET_KEY].get(), claims, lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=secure_cookie(request),
        path="/",
    )


def secure_cookie(request: web.Request) -> bool:
    """Secure cookies unless the server only listens on localhost over plain HTTP (``COOKIE_SECURE`` decides
    when set); a trusted TLS proxy saying the client came over HTTPS makes them Secure too."""
    settings = request.app[appkeys.SETTINGS]
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return settings.secure_cookies or proxies.is_https(request)


async def refresh_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: slide the cookie's lifetime when the session was just touched."""
    claims = request.get(_REFRESH_KEY)
    if claims is not None and not response.prepared and SESSION_COOKIE not in response.cookies:
        set_session_cookie(request, response, claims)


async def _start_session(request: web.Request, user: Any, status: int) -> web.Response:
    db = request.app[appkeys.DATABASE]
    session = await db.create_auth_session(user.id, request.headers.get("User-Agent", "")[:300], client_ip(request))
    response = web.json_response({"user": profile(user)}, status=status)
    set_session_cookie(request, response, SessionClaims(user.id, session.id))
    return response


async def signup(request: web.Request) -> web.Response:
    """POST /api/auth/signup: create an account and log in."""
    body = parse_body(SignupBody, await read_json(request))
    problem = password_problem(body.password, body.email)
    if problem:
        raise ApiError(400, "weak_password", problem)
    db = request.app[appkeys.DATABASE]
    password_hash = await _in_thread(hash_password, body.password)
    try:
        user = await db.create_user(
            email=body.email,
            password_hash=password_hash,
            full_name=body.full_name,
            target_role=body.target_role,
            experience_level=body.experience_level,
        )
    except EmailTaken as exc:
        raise ApiError(409, "email_taken", "An account with this email already exists; log in instead.") from exc
    return await _start_session(request, user, 201)


async def login(request: web.Request) -> web.Response:
    """POST /api/auth/login: the same answer for an unknown email and a wrong password."""
    body = parse_body(LoginBody, await read_json(request))
    user = await _check_login(request.app[appkeys.DATABASE], body.email, body.password)
    if user is None:
        raise ApiError(401, "invalid_credentials", "The email or the password is not right.")
    return await _start_session(request, user, 200)


async def _check_login(db: Any, email: str, password: str) -> Any:
    """The account this email and password open, or None. The email is normalised as at signup; an account
    made before look-alike spellings were folded is still found under the spelling it was made with."""
    candidates = await db.users_for_login(email)
    if not candidates:
        await _in_thread(verify_password, None, password)  # the same time as a real check
        return None
    for user in candidates:
        if await _in_thread(verify_password, user.password_hash, password):
            return user
    return None


async def logout(request: web.Request) -> web.Response:
    """POST /api/auth/logout: revoke the session row and clear the cookie."""
    auth = await current_auth(request)
    if auth is not None:
        await request.app[appkeys.DATABASE].revoke_auth_session(auth.session.id)
    request.pop(_REFRESH_KEY, None)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/auth/signup", signup)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
