"""Typed keys for what the application owns (created in cleanup contexts, never module globals)."""

from __future__ import annotations

from aiohttp import web

from signaling.planner import CallPlanner
from signaling.registry import CallRegistry
from voice_agent.providers.base import Providers
from web.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
PROVIDERS = web.AppKey("providers", Providers)
CALLS = web.AppKey("calls", CallRegistry)
CALL_PLANNER = web.AppKey("call_planner", CallPlanner)
