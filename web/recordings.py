"""Call recordings: started for every call (unless ``RECORDINGS=false``), served only to the interview's owner.

Each call of an interview is one file, ``<RECORDINGS_DIR>/<interview id>/<started>-<call id>.ogg`` (a reconnect
makes a second file); ``GET /api/interviews/{id}/recording`` serves the latest, or one by ``?call=<call id>``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from signaling.live_call import LiveCall
from signaling.recording import CallRecorder
from web import appkeys
from web.auth import require_auth
from web.errors import ApiError
from web.request_params import interview_id

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[0-9a-f]{6,32}$")


def recording_url(interview: str) -> str:
    return f"/api/interviews/{interview}/recording"


def recordings_of(folder: Path, interview: str) -> list[Path]:
    """The interview's recordings, oldest first."""
    directory = folder / interview
    return sorted(directory.glob("*.ogg")) if directory.is_dir() else []


def describe(path: Path, interview: str) -> dict[str, Any]:
    call_id = path.stem.rsplit("-", 1)[-1]
    return {"call_id": call_id, "url": f"{recording_url(interview)}?call={call_id}", "bytes": path.stat().st_size}


class RecordingHook:
    """Attaches a recorder to every call that starts."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def __call__(self, call: LiveCall) -> None:
        settings = self._app[appkeys.SETTINGS]
        if not settings.recordings:
            return
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{call.id}.ogg"
        recorder = CallRecorder(settings.recordings_path / call.interview_id / name)
        try:
            await recorder.start()
        except Exception:
            log.exception("call %s: the recording could not start", call.id)
            return
        call.recorder = recorder
        call.ended_callbacks.append(recorder.close)
        try:
            database = self._app[appkeys.DATABASE]
            await database.set_recording_url(uuid.UUID(call.interview_id), recording_url(call.interview_id))
        except Exception:
            log.exception("call %s: recording_url not stored", call.id)


async def get_recording(request: web.Request) -> web.StreamResponse:
    """GET /api/interviews/{id}/recording[?call=<call id>]: the owner's recording, Ogg/Opus."""
    auth = await require_auth(request)
    key = interview_id(request)
    interview = await request.app[appkeys.DATABASE].get_interview(key, auth.user.id)
    if interview is None:
        raise ApiError(404, "not_found", "No such interview.")
    files = recordings_of(request.app[appkeys.SETTINGS].recordings_path, str(key))
    wanted = request.query.get("call")
    if wanted is not None:
        if not _CALL_ID.match(wanted):
            raise ApiError(404, "not_found", "No such recording.")
        files = [f for f in files if f.stem.endswith(f"-{wanted}")]
    if not files:
        raise ApiError(404, "not_found", "This interview has no recording.")
    return web.FileResponse(files[-1], headers={"Content-Type": "audio/ogg", "Cache-Control": "private, no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/interviews/{interview_id}/recording", get_recording)
