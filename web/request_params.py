"""Reading a request's path and query parameters: a clear 404 or 400 for anything malformed, and the interview a
path names, only for its owner (another user's interview is a 404, like one that does not exist)."""

from __future__ import annotations

import uuid

from aiohttp import web

from db.models import InterviewSession
from db.repository import Database
from web.errors import ApiError


def interview_not_found() -> ApiError:
    """The 404 for an interview that is not there, not the user's, or not an id at all."""
    return ApiError(404, "not_found", "No such interview.")


def interview_id(request: web.Request, name: str = "interview_id") -> uuid.UUID:
    """The interview id of the path; a 404 for anything that is not an id."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as exc:
        raise interview_not_found() from exc


async def owned_interview(database: Database, user_id: uuid.UUID, key: uuid.UUID) -> InterviewSession:
    """The user's interview ``key``; a 404 ``not_found`` when there is none or it is another user's."""
    interview = await database.get_interview(key, user_id)
    if interview is None:
        raise interview_not_found()
    return interview


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter from ``low`` to ``high`` (``default`` when absent), or a 400 ``invalid_query``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_query", f"'{name}' must be an integer.") from exc
    if not low <= value <= high:
        raise ApiError(400, "invalid_query", f"'{name}' must be from {low} to {high}.")
    return value
