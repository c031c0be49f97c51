"""Typed keys for what the application owns (created in cleanup contexts, never module globals)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from db.repository import Database
from signaling.lease import CallLease
from signaling.planner import CallPlanner
from signaling.registry import CallRegistry
from voice_agent.providers.base import Providers
from web.feedback import FeedbackService
from web.monitoring import CallMonitor
from web.ratelimit import RateLimiter
from web.security import SecretKeySource
from web.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
PROVIDERS = web.AppKey("providers", Providers)
CALLS = web.AppKey("calls", CallRegistry)
CALL_PLANNER = web.AppKey("call_planner", CallPlanner)
CALL_LEASE = web.AppKey("call_lease", CallLease)
DATABASE = web.AppKey("database", Database)
SECRET_KEY = web.AppKey("secret_key", SecretKeySource)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
FEEDBACK = web.AppKey("feedback", FeedbackService)
#: Set when the server is shutting down: no new calls, /readyz answers 503.
DRAINING = web.AppKey("draining", asyncio.Event)
MONITOR = web.AppKey("monitor", CallMonitor)
#: Async functions run for every call that starts (metrics, recording).
CALL_HOOKS = web.AppKey("call_hooks", list)
