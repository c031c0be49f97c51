"""Typed keys for what the application owns (created in cleanup contexts, never module globals)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from db.repository import Database
from signaling.lease import CallLease
from signaling.registry import CallRegistry
from voice_agent.providers.base import Providers
from web.call_directory import CallDirectory
from web.feedback import FeedbackService
from web.metrics import CallMonitor
from web.ratelimit import RateLimiter
from web.recording_store import RecordingStore
from web.security import SecretKeySource
from web.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
PROVIDERS = web.AppKey("providers", Providers)
CALLS = web.AppKey("calls", CallRegistry)
CALL_LEASE = web.AppKey("call_lease", CallLease)
DATABASE = web.AppKey("database", Database)
SECRET_KEY = web.AppKey("secret_key", SecretKeySource)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
FEEDBACK = web.AppKey("feedback", FeedbackService)
#: Set when the server is shutting down: no new calls, /readyz answers 503.
DRAINING = web.AppKey("draining", asyncio.Event)
MONITOR = web.AppKey("monitor", CallMonitor)
#: Where call recordings are kept (a folder of files: ``RECORDINGS_DIR``).
RECORDINGS = web.AppKey("recordings", RecordingStore)
#: Async functions run for every call that starts (metrics, recording).
CALL_HOOKS = web.AppKey("call_hooks", list)
#: This worker's name (``hostname:pid``), unique across hosts.
WORKER = web.AppKey("worker", str)
#: Where workers share their live calls for the status (None: a single process).
CALL_DIRECTORY = web.AppKey("call_directory", CallDirectory)
#: "redis", "files" or "none": what the workers share state through.
SHARED_STATE_KIND = web.AppKey("shared_state_kind", str)
#: The asyncio Redis client when ``REDIS_URL`` is set.
REDIS = web.AppKey("redis", object)
