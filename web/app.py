"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from db.migrate import upgrade
from db.repository import Database
from signaling.aiortc_patches import restrict_host_addresses, restrict_port_range, use_speech_jitter_buffer
from signaling.lease import LocalCallLease
from signaling.redis_lease import RedisCallLease
from signaling.registry import CallRegistry
from voice_agent.providers.registry import close_providers, load_providers
from web import api, appkeys, auth, call_routes, monitoring, pages, recordings, redis_state, sharing
from web.call_directory import FileCallDirectory, RedisCallDirectory
from web.calls import IdleInterviewSweep
from web.errors import BODY_TIMEOUT_S, json_errors
from web.feedback import FeedbackService
from web.metrics import CallMonitor
from web.middlewares import add_security_headers, count_requests, origin_check, rate_limit
from web.ratelimit import InMemoryRateLimiter
from web.recording_store import FolderRecordingStore
from web.recordings import RecordingHook
from web.security import FileOrEnvSecretKey
from web.settings import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    url = settings.resolved_database_url
    await upgrade(url)
    database = Database(url)
    app[appkeys.DATABASE] = database
    log.info("database: %s", database.masked_url)
    yield
    await database.dispose()


async def _providers_ctx(app: web.Application) -> AsyncIterator[None]:
    providers = await load_providers(app[appkeys.SETTINGS].provider_config())
    app[appkeys.PROVIDERS] = providers
    yield
    await close_providers(providers)


async def _feedback_ctx(app: web.Application) -> AsyncIterator[None]:
    delay = app[appkeys.SETTINGS].feedback_retry_delay_s
    service = FeedbackService(app[appkeys.DATABASE], app[appkeys.PROVIDERS].llm, retry_delays_s=(delay,))
    app[appkeys.FEEDBACK] = service
    yield
    await service.close()


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """With ``REDIS_URL``: check Redis answers, run the lease's listener and heartbeat, close the client."""
    redis = app.get(appkeys.REDIS)
    if redis is None:
        yield
        return
    url = app[appkeys.SETTINGS].redis_url
    try:
        await redis.ping()
    except Exception as exc:
        raise RuntimeError(f"Redis at {redis_state.masked(url)} does not answer: {exc}") from exc
    log.info("shared state: Redis at %s", redis_state.masked(url))
    lease = app[appkeys.CALL_LEASE]
    assert isinstance(lease, RedisCallLease)
    await lease.start()
    yield
    await lease.close()
    await redis.aclose()


def _shared_state(app: web.Application, settings: Settings) -> None:
    """Rate limits, the call lease and the live-call directory: in Redis with ``REDIS_URL``, else per worker
    (the directory in the supervisor's folder with several workers on one host)."""
    interval = settings.status_publish_interval_s
    if settings.redis_url:
        redis = redis_state.connect(settings.redis_url)
        app[appkeys.REDIS] = redis
        app[appkeys.RATE_LIMITER] = redis_state.RedisRateLimiter(redis, settings.redis_prefix)
        app[appkeys.CALL_LEASE] = RedisCallLease(redis, settings.redis_prefix, settings.lease_ttl_s)
        app[appkeys.CALL_DIRECTORY] = RedisCallDirectory(redis, settings.redis_prefix, interval)
        app[appkeys.SHARED_STATE_KIND] = "redis"
        return
    app[appkeys.RATE_LIMITER] = InMemoryRateLimiter()
    app[appkeys.CALL_LEASE] = LocalCallLease()
    if settings.worker_state_dir is not None:
        app[appkeys.CALL_DIRECTORY] = FileCallDirectory(settings.worker_state_dir, interval)
        app[appkeys.SHARED_STATE_KIND] = "files"
    else:
        app[appkeys.SHARED_STATE_KIND] = "none"


async def _calls_ctx(app: web.Application) -> AsyncIterator[None]:
    calls = CallRegistry(on_change=app[appkeys.MONITOR].changed.set)
    app[appkeys.CALLS] = calls
    yield


async def _sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    sweep = IdleInterviewSweep(
        app[appkeys.DATABASE], settings.abandon_after_s, settings.sweep_interval_s, app[appkeys.FEEDBACK]
    )
    task = asyncio.get_running_loop().create_task(sweep.run(), name="periodic-sweep")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_calls_on_shutdown(app: web.Application) -> None:
    """The one place calls end when the server stops (``runner.cleanup()`` runs it before anything is closed):
    each gets an ``ended`` event of reason ``server_shutdown`` and its transcript is flushed."""
    await app[appkeys.CALLS].close_all("server_shutdown")


def create_app(settings: Settings) -> web.Application:
    """The whole server: signaling, API and pages; its database, providers and calls live with the app."""
    restrict_host_addresses(settings.media_addresses)
    restrict_port_range(settings.rtc_port_range)
    use_speech_jitter_buffer(settings.inbound_jitter_buffer == "speech", settings.jitter_reorder_packets)
    app = web.Application(
        middlewares=[count_requests, json_errors, rate_limit, origin_check], client_max_size=settings.max_body_bytes
    )
    app[appkeys.SETTINGS] = settings
    app[BODY_TIMEOUT_S] = settings.http_body_timeout_s
    app[appkeys.SECRET_KEY] = FileOrEnvSecretKey(
        settings.secret_key.get_secret_value() if settings.secret_key else None, settings.data_dir
    )
    app[appkeys.WORKER] = sharing.worker_name()
    _shared_state(app, settings)
    app[appkeys.DRAINING] = asyncio.Event()
    monitor = CallMonitor()
    app[appkeys.MONITOR] = monitor
    app[appkeys.RECORDINGS] = FolderRecordingStore(settings.recordings_path)
    app[appkeys.CALL_HOOKS] = [monitor.hook, RecordingHook(app)]
    # Cleanup runs in reverse: calls end (and store their last lines) before the database closes.
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_providers_ctx)
    app.cleanup_ctx.append(_feedback_ctx)
    app.cleanup_ctx.append(_calls_ctx)
    app.cleanup_ctx.append(_sweep_ctx)
    app.cleanup_ctx.append(sharing.publish_ctx)
    app.on_shutdown.append(_close_calls_on_shutdown)
    app.on_response_prepare.append(add_security_headers)
    app.on_response_prepare.append(auth.refresh_cookie)
    auth.add_routes(app)
    api.add_routes(app)
    monitoring.add_routes(app)
    recordings.add_routes(app)
    call_routes.add_routes(app)
    pages.add_routes(app)
    app.router.add_static("/static/", STATIC_DIR)
    return app
