"""Reading a request's path and query parameters: a clear 404 or 400 for anything malformed."""

from __future__ import annotations

import uuid

from aiohttp import web

from web.errors import ApiError


def interview_id(request: web.Request, name: str = "interview_id") -> uuid.UUID:
    """The interview id of the path; a 404 for anything that is not an id."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as exc:
        raise ApiError(404, "not_found", "No such interview.") from exc


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
