"""What operators see: ``/api/status`` (JSON), ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``; the
figures come from ``web.metrics``."""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from pydantic import SecretStr

from voice_agent.session import Usage
from web import appkeys, proxies, sharing
from web.errors import ApiError
from web.metrics import app_version, estimated_cost, percentiles
from web.settings import is_loopback_host


def _health(provider: Any) -> dict[str, Any]:
    health = getattr(provider, "health", None)
    if health is None:
        return {"name": getattr(provider, "name", "?"), "embedded": True}
    return {
        "name": provider.name,
        "requests": health.requests,
        "errors": health.errors,
        "error_counts": dict(health.error_counts),
        "last_error": health.last_error,
        "last_error_at": health.last_error_at,
    }


def bearer_matches(request: web.Request, token: SecretStr | None) -> bool:
    """The request carries ``Authorization: Bearer <token>`` (compared in constant time, as bytes: a non-ASCII
    header must be a mismatch, not an error)."""
    if token is None:
        return False
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    expected = token.get_secret_value()
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def _loopback_host_header(request: web.Request) -> bool:
    """The ``Host`` header names this machine (localhost, 127.x, [::1], any port): a page of another site whose
    name was rebound to 127.0.0.1 sends its own name, not one of these."""
    try:
        hostname = urlsplit(f"//{request.headers.get('Host', '')}").hostname
    except ValueError:
        return False
    return hostname is not None and is_loopback_host(hostname)


def _on_this_machine(request: web.Request) -> bool:
    """The client is on this machine and says so in ``Host`` too: a proxy on this host that is not in
    ``TRUSTED_PROXIES`` passes the public name on, and a rebound domain sends its own."""
    try:
        local = ipaddress.ip_address(proxies.client_ip(request)).is_loopback
    except ValueError:
        return False
    return local and _loopback_host_header(request)


def _authorised(request: web.Request) -> None:
    token = request.app[appkeys.SETTINGS].status_token
    if token is None:
        if not _on_this_machine(request):
            raise ApiError(403, "status_local_only", "Set STATUS_TOKEN to read the status from another host.")
        return
    if not bearer_matches(request, token):
        raise ApiError(
            401,
            "unauthorized",
            "The status needs 'Authorization: Bearer <STATUS_TOKEN>'.",
            {"WWW-Authenticate": "Bearer"},
        )


def _in_metrics_networks(request: web.Request) -> bool:
    if not proxies.client_in(request, request.app[appkeys.SETTINGS].metrics_allow_networks):
        return False
    try:
        loopback = ipaddress.ip_address(proxies.client_ip(request)).is_loopback
    except ValueError:
        return False
    return not loopback or _loopback_host_header(request)


def _metrics_authorised(request: web.Request) -> None:
    """``/metrics`` is for the ``STATUS_TOKEN`` bearer, or for clients in ``METRICS_ALLOW`` (a loopback client
    with a loopback ``Host`` header, as for the status)."""
    settings = request.app[appkeys.SETTINGS]
    if bearer_matches(request, settings.status_token) or _in_metrics_networks(request):
        return
    if settings.status_token is not None:
        raise ApiError(
            401,
            "unauthorized",
            "The metrics need 'Authorization: Bearer <STATUS_TOKEN>' from outside METRICS_ALLOW.",
            {"WWW-Authenticate": "Bearer"},
        )
    raise ApiError(403, "metrics_forbidden", "This address is not in METRICS_ALLOW.")


async def get_status(request: web.Request) -> web.Response:
    """GET /api/status: the server as an operator sees it (every worker: this one live, the others from their
    latest shared snapshot)."""
    _authorised(request)
    app = request.app
    providers = app[appkeys.PROVIDERS]
    settings = app[appkeys.SETTINGS]
    view = await sharing.whole_server(app)
    started = time.monotonic()
    database_ok = await app[appkeys.DATABASE].ping(timeout=2.0)
    totals = Usage(**view.usage)
    return web.json_response(
        {
            "version": app_version(),
            "uptime_s": round(time.time() - app[appkeys.MONITOR].started, 1),
            "draining": app[appkeys.DRAINING].is_set(),
            "worker": view.worker,
            "workers": view.workers,
            "shared_state": view.shared_state,
            "active_calls": view.calls,
            "since_start": {
                "calls": view.counts["calls"],
                "turns": view.counts["turns"],
                "calls_ended": view.counts["calls_ended"],
                "errors_by_role": view.counts["errors_by_role"],
                "latency_ms": percentiles(view.samples),
            },
            "providers": {
                "stt": _health(providers.stt),
                "llm": _health(providers.llm),
                "tts": _health(providers.tts),
            },
            "usage": {
                **{k: round(v, 2) if isinstance(v, float) else v for k, v in totals.model_dump().items()},
                "estimated_cost_usd": estimated_cost(totals, providers, settings),
            },
            "database": {
                "ok": database_ok,
                "dialect": app[appkeys.DATABASE].dialect,
                "ping_ms": round((time.monotonic() - started) * 1000, 1),
            },
        }
    )


async def get_metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format (for ``METRICS_ALLOW`` networks or the ``STATUS_TOKEN`` bearer)."""
    _metrics_authorised(request)
    folder = request.app[appkeys.SETTINGS].prometheus_multiproc_dir
    if folder is not None:
        # Several workers: every worker's metrics, read from the shared multiprocess files.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(folder))
        body = generate_latest(registry)
    else:
        body = generate_latest(request.app[appkeys.MONITOR].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for calls: the database answers, the providers are up, and the server is not draining."""
    app = request.app
    checks = {
        "database": await app[appkeys.DATABASE].ping(timeout=2.0),
        "providers": appkeys.PROVIDERS in app,
        "accepting_calls": not app[appkeys.DRAINING].is_set(),
    }
    ready = all(checks.values())
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/status", get_status)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
