"""Call recordings: started for every call (unless ``RECORDINGS=false``), served only to the interview's owner.

The app's ``RecordingStore`` (``web/recording_store.py``) keeps them, one per call of an interview (a reconnect
makes a second one); ``GET /api/interviews/{id}/recording`` serves the latest, or one by ``?call=<call id>``.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from aiohttp import web

from signaling.live_call import LiveCall
from web import appkeys
from web.auth import require_auth
from web.errors import ApiError
from web.recording_store import Recording
from web.request_params import interview_id, owned_interview

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[0-9a-f]{6,32}$")


def recording_url(interview: str) -> str:
    """Where the interview's latest recording is served."""
    return f"/api/interviews/{interview}/recording"


def recording_json(recording: Recording, interview: str) -> dict[str, Any]:
    """One recording as the interview's details list it: its call, where to fetch it, its size."""
    return {
        "call_id": recording.call_id,
        "url": f"{recording_url(interview)}?call={recording.call_id}",
        "bytes": recording.size,
    }


class RecordingHook:
    """Attaches a recorder from the app's store to every call that starts."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def __call__(self, call: LiveCall) -> None:
        if not self._app[appkeys.SETTINGS].recordings:
            return
        recorder = self._app[appkeys.RECORDINGS].recorder(call.interview_id, call.id)
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
    interview = await owned_interview(request.app[appkeys.DATABASE], auth.user.id, interview_id(request))
    wanted = request.query.get("call")
    if wanted is not None and not _CALL_ID.match(wanted):
        raise ApiError(404, "not_found", "No such recording.")
    recording = request.app[appkeys.RECORDINGS].find(str(interview.id), wanted)
    if recording is None:
        raise ApiError(404, "not_found", "This interview has no recording.")
    return web.FileResponse(recording.path, headers={"Content-Type": "audio/ogg", "Cache-Control": "private, no-store"})


def add_routes(app: web.Application) -> None:
    """The recording route."""
    app.router.add_get("/api/interviews/{interview_id}/recording", get_recording)
