"""Typed keys for what the application owns (created in cleanup contexts, never module globals)."""

from __future__ import annotations

from aiohttp import web

from db.repository import Database
from signaling.lease import CallLease
from signaling.planner import CallPlanner
from signaling.registry import CallRegistry
from voice_agent.providers.base import Providers
from web.feedback import FeedbackService
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
