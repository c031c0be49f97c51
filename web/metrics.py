"""The metrics model: what ``CallMonitor`` counts of every call (per-stage latencies, kept for percentiles and
as Prometheus histograms; turns; errors by provider role; calls by how they ended; each finished call's provider
usage), the estimated cost, and one live call's figures for the status. No HTTP here: ``web.monitoring`` serves
it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter

from signaling.live_call import LiveCall
from voice_agent.events import CallEnded, ErrorRaised, SessionEvent, TurnMetricsReady
from voice_agent.providers.base import Providers, is_embedded
from voice_agent.session import Usage

STAGES = ("endpointing_ms", "stt_ms", "llm_ttft_ms", "tts_first_audio_ms", "response_ms")
#: Latencies kept per stage for the status percentiles (the most recent ones).
RESERVOIR = 5000
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
        #: Set when a call starts or ends: the worker shares its snapshot at once (``web.sharing``).
        self.changed = asyncio.Event()

    async def hook(self, call: LiveCall) -> None:
        """Called for every call that starts: count it and watch its events."""
        self.total_calls += 1
        self.changed.set()
        self.calls_started.labels(call.transport).inc()
        self.active_calls.inc()
        call.observers.append(self.observe)
        call.late_frame_observers.append(self.late_frames.inc)

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


def estimated_cost(usage: Usage, providers: Providers, settings: Any) -> dict[str, float]:
    """Dollars, from the configured unit prices; the embedded providers cost nothing."""

    def paid(provider: Any) -> bool:
        return not is_embedded(provider)

    stt = usage.stt_seconds / 60 * settings.price_stt_per_minute if paid(providers.stt) else 0.0
    llm = (
        usage.llm_input_tokens / 1e6 * settings.price_llm_input_per_mtok
        + usage.llm_output_tokens / 1e6 * settings.price_llm_output_per_mtok
        if paid(providers.llm)
        else 0.0
    )
    tts = usage.tts_characters / 1e6 * settings.price_tts_per_mchar if paid(providers.tts) else 0.0
    return {"stt": round(stt, 4), "llm": round(llm, 4), "tts": round(tts, 4), "total": round(stt + llm + tts, 4)}


async def call_status(call: LiveCall) -> dict[str, Any]:
    """One live call for the status page."""
    last = call.session.turns[-1].latencies_ms() if call.session.turns else None
    transport = await call.transport_stats()
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
