"""Request guards: rate limits, the origin check, and security headers on every response."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from web import appkeys, proxies
from web.errors import ApiError

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Replaces aiohttp's ``Server`` header, which names the Python and aiohttp versions.
SERVER_NAME = "mock-interviewer"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTH_PATHS = frozenset({"/api/auth/login", "/api/auth/signup"})


def client_ip(request: web.Request) -> str:
    """The client's address (``X-Forwarded-For`` believed only from ``TRUSTED_PROXIES``)."""
    return proxies.client_ip(request)


@web.middleware
async def rate_limit(request: web.Request, handler: Any) -> web.StreamResponse:
    """100 requests a minute per IP on the API (configurable), fewer on login and signup."""
    if request.path.startswith("/api/"):
        settings = request.app[appkeys.SETTINGS]
        limiter = request.app[appkeys.RATE_LIMITER]
        ip = client_ip(request)
        verdict = await limiter.hit(f"api:{ip}", settings.rate_limit_per_minute)
        if verdict.allowed and request.path in AUTH_PATHS and request.method == "POST":
            verdict = await limiter.hit(f"auth:{ip}", settings.auth_rate_limit_per_minute)
        if not verdict.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests; try again in {verdict.retry_after_s} s.",
                {"Retry-After": str(verdict.retry_after_s)},
            )
    return await handler(request)


@web.middleware
async def origin_check(request: web.Request, handler: Any) -> web.StreamResponse:
    """State-changing requests from a browser must come from this site (or a configured origin)."""
    if request.method in STATE_CHANGING:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise ApiError(403, "forbidden_origin", "Cross-site requests are not allowed.")
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(request, origin):
            raise ApiError(403, "forbidden_origin", "This origin may not make changes here.")
    return await handler(request)


def origin_allowed(request: web.Request, origin: str) -> bool:
    origin = origin.rstrip("/")
    if origin in request.app[appkeys.SETTINGS].public_origins:
        return True
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == request.host


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the same headers on pages, API answers, errors and static files; HSTS when the
    client came over HTTPS (directly or through a trusted TLS proxy)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = SERVER_NAME
    max_age = request.app[appkeys.SETTINGS].hsts_max_age_s
    if max_age and proxies.is_https(request):
        response.headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def count_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """Count HTTP requests by route (the pattern, not the path) and status."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        request.app[appkeys.MONITOR].http_requests.labels(name, request.method, str(status)).inc()
