"""The server's HTTP API as the loopback client uses it: errors, sign-in, interviews."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp


class CallFailed(RuntimeError):
    """The call could not be set up or did not go as a call should."""


#: Refusals that mean "the server is full right now": the call may be tried again after ``Retry-After``.
TRY_AGAIN_CODES = frozenset({"busy", "media_ports_exhausted", "too_many_pending_calls", "draining"})


class ServerBusy(CallFailed):
    """The server refused the call for the moment; ``retry_after`` is how long it asked to wait (seconds)."""

    def __init__(self, message: str, code: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


DEFAULT_INTERVIEW = {
    "role": "Software Engineer",
    "interview_type": "mixed",
    "duration_minutes": 20,
    "experience_level": "mid",
    "candidate_name": "Loopback Candidate",
}


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` given in seconds (the form this server sends), or None."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def new_http_session() -> aiohttp.ClientSession:
    """An HTTP client that keeps the login cookie, also for a server addressed by IP (127.0.0.1)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def api_request(http: aiohttp.ClientSession, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """One JSON request to the server; its decoded answer, or ``CallFailed`` (``ServerBusy`` for a refusal
    that means "try again in a moment") with the server's error message."""
    async with http.request(method, url, json=body) as response:
        data = await response.json(content_type=None)
        if response.status >= 400:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            message = f"{method} {urlsplit(url).path} refused ({response.status}): {error.get('message', data)}"
            code = error.get("code", "")
            if code in TRY_AGAIN_CODES:
                retry_after = _seconds(response.headers.get("Retry-After"))
                wait = f" (the server asks to wait {retry_after:g} s)" if retry_after is not None else ""
                raise ServerBusy(f"{message} [{code}]: try again in a moment{wait}", code, retry_after)
            raise CallFailed(message)
        return data


async def sign_in(
    http: aiohttp.ClientSession,
    base_url: str,
    email: str | None = None,
    password: str | None = None,
    interview: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Log in with ``email``/``password``, or sign up a fresh candidate; returns the profile."""
    base_url = base_url.rstrip("/")
    if email is not None:
        if password is None:
            raise CallFailed("--password is needed with --email")
        data = await api_request(http, "POST", f"{base_url}/api/auth/login", {"email": email, "password": password})
        return data["user"]
    details = {**DEFAULT_INTERVIEW, **(interview or {})}
    body = {
        "email": f"candidate-{secrets.token_hex(6)}@loopback.test",
        "password": secrets.token_urlsafe(16),
        "full_name": details["candidate_name"] or "Loopback Candidate",
        "target_role": details["role"],
        "experience_level": details["experience_level"],
    }
    data = await api_request(http, "POST", f"{base_url}/api/auth/signup", body)
    return data["user"]


async def create_interview(http: aiohttp.ClientSession, base_url: str, interview: dict[str, Any] | None = None) -> str:
    """A new interview for the logged-in user (spends one credit); returns its id."""
    details = {**DEFAULT_INTERVIEW, **(interview or {})}
    body = {k: details[k] for k in ("role", "interview_type", "duration_minutes")}
    data = await api_request(http, "POST", f"{base_url.rstrip('/')}/api/interviews/create", body)
    return data["interview"]["id"]
