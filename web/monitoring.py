"""What operators see: ``/api/status`` (JSON), ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

``CallMonitor`` watches every call's events: per-stage latencies (kept for percentiles and as Prometheus
histograms), turns, errors by provider role, calls by how they ended, and each finished call's provider usage.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections import Counter, deque
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client import Counter as PromCounter
from pydantic import SecretStr

from signaling.live_call import LiveCall
from voice_agent.events import CallEnded, ErrorRaised, SessionEvent, TurnMetricsReady
from voice_agent.session import Usage
from web import appkeys, proxies, sharing
from web.errors import ApiError
from web.settings import is_loopback_host

STAGES = ("endpointing_ms", "stt_ms", "llm_ttft_ms", "tts_first_audio_ms", "response_ms")
#: Latencies kept per stage for the status percentiles (the most recent ones).
RESERVOIR = 5000
#: Providers that run on this machine cost nothing per use.
EMBEDDED = frozenset({"whisper", "pocketsphinx", "scripted", "hibari", "espeak"})
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def app_version() -> str:
    try:
        return version("mock-interviewer")
    except PackageNotFoundError:  # pragma: no cover - running from a tree without install
        return "unknown"


class CallMonitor:
    """Counts and latencies since the server started, for the status endpoint and Prometheus."""

    def __init__(self) -> None:
        self.started = time.time()
        self.registry = CollectorRegistry()
        self.calls_started = PromCounter(
            "mock_interviewer_calls_started", "Calls started", ["transport"], registry=self.registry
        )
        self.calls_ended = PromCounter(
            "mock_interviewer_calls_ended", "Calls ended", ["reason"], registry=self.registry
        )
        self.turns = PromCounter("mock_interviewer_turns", "Agent turns that started playing", registry=self.registry)
        self.latency = Histogram(
            "mock_interviewer_latency_seconds",
            "Per-turn latency by stage (DESIGN §2)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.provider_errors = PromCounter(
            "mock_interviewer_provider_errors",
            "Provider faults a call survived",
            ["role", "code"],
            registry=self.registry,
        )
        self.http_requests = PromCounter(
            "mock_interviewer_http_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.late_frames = PromCounter(
            "mock_interviewer_late_outbound_frames",
            "Outbound frames produced more than a frame late",
            registry=self.registry,
        )
        # With several workers (Prometheus multiprocess mode) the live workers' gauges add up.
        self.active_calls = Gauge(
            "mock_interviewer_active_calls", "Calls in progress", registry=self.registry, multiprocess_mode="livesum"
        )
        self.samples: dict[str, deque[float]] = {stage: deque(maxlen=RESERVOIR) for stage in STAGES}
        self.total_calls = 0
        self.total_turns = 0
        self.ended_by: Counter[str] = Counter()
        self.errors_by_role: Counter[str] = Counter()
        self.usage = Usage()
        self._late_counted: dict[str, int] = {}
        #: Set when a call starts or ends: the worker shares its snapshot at once (``web.sharing``).
        self.changed = asyncio.Event()

    async def hook(self, call: LiveCall) -> None:
        """Called for every call that starts: count it and watch its events."""
        self.total_calls += 1
        self.changed.set()
        self.calls_started.labels(call.transport).inc()
        self.active_calls.inc()
        call.observers.append(self.observe)
        track = getattr(call, "track", None)
        if track is not None:
            track.on_late = self.late_frames.inc

    def observe(self, call: LiveCall, event: SessionEvent) -> None:
        if isinstance(event, TurnMetricsReady):
            self.total_turns += 1
            self.turns.inc()
            for stage, value in event.metrics.latencies_ms().items():
                if value is not None and stage in self.samples:
                    self.samples[stage].append(value)
                    self.latency.labels(stage.removesuffix("_ms")).observe(value / 1000)
        elif isinstance(event, ErrorRaised):
            role = event.role or "call"
            self.errors_by_role[role] += 1
            self.provider_errors.labels(role, event.code).inc()
        elif isinstance(event, CallEnded):
            self.ended_by[event.reason] += 1
            self.changed.set()
            self.calls_ended.labels(event.reason).inc()
            self.active_calls.dec()
            usage = call.session.usage
            self.usage.stt_seconds += usage.stt_seconds
            self.usage.llm_input_tokens += usage.llm_input_tokens
            self.usage.llm_output_tokens += usage.llm_output_tokens
            self.usage.tts_characters += usage.tts_characters

    def percentiles(self) -> dict[str, dict[str, float | None]]:
        """p50/p95/p99 of each stage since start (the most recent ``RESERVOIR`` turns)."""
        return percentiles(self.samples)


def percentiles(samples: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """p50/p95/p99 of each stage's latencies (milliseconds)."""
    out = {}
    for stage, values in samples.items():
        data = np.asarray(list(values), dtype=float)
        if data.size:
            p50, p95, p99 = (round(float(v), 1) for v in np.percentile(data, [50, 95, 99]))
            out[stage] = {"p50": p50, "p95": p95, "p99": p99, "n": int(data.size)}
        else:
            out[stage] = {"p50": None, "p95": None, "p99": None, "n": 0}
    return out


def estimated_cost(usage: Usage, providers: Any, settings: Any) -> dict[str, float]:
    """Dollars, from the configured unit prices; the embedded providers cost nothing."""

    def paid(provider: Any) -> bool:
        return getattr(provider, "name", "") not in EMBEDDED

    stt = usage.stt_seconds / 60 * settings.price_stt_per_minute if paid(providers.stt) else 0.0
    llm = (
        usage.llm_input_tokens / 1e6 * settings.price_llm_input_per_mtok
        + usage.llm_output_tokens / 1e6 * settings.price_llm_output_per_mtok
        if paid(providers.llm)
        else 0.0
    )
    tts = usage.tts_characters / 1e6 * settings.price_tts_per_mchar if paid(providers.tts) else 0.0
    return {"stt": round(stt, 4), "llm": round(llm, 4), "tts": round(tts, 4), "total": round(stt + llm + tts, 4)}


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


async def call_status(call: LiveCall) -> dict[str, Any]:
    """One live call for the status page."""
    last = call.session.turns[-1].latencies_ms() if call.session.turns else None
    stats_of = getattr(call, "transport_stats", None) or getattr(call, "rtp_stats", None)
    transport = await stats_of() if stats_of is not None else {}
    return {
        "call_id": call.id,
        "interview_id": call.interview_id,
        "user_id": call.user_id,
        "transport": call.transport,
        "state": call.state,
        "connected": call.connected_at is not None,
        "duration_s": round(time.monotonic() - call.started_monotonic, 1),
        "turns": len(call.session.turns),
        "last_turn_ms": last,
        "usage": call.session.usage.model_dump(),
        "media": transport,
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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/status", get_status)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
