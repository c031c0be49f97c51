"""The REST API of the platform: profile, interviews and their transcripts, feedback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from web import appkeys
from web.auth import profile, require_auth
from web.errors import ApiError, read_json
from web.recordings import recording_json
from web.request_params import int_query, interview_id, interview_not_found, owned_interview
from web.schemas import CreateInterviewBody, ProfilePatch, parse_body
from web.values import enum_value

#: Live calls end with this reason when their interview is completed through the API.
COMPLETED_BY_API = "completed"


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def interview_json(interview: Any, overall_score: int | None = None) -> dict[str, Any]:
    """An interview as the API shows it."""
    return {
        "id": str(interview.id),
        "role": interview.role,
        "interview_type": enum_value(interview.interview_type),
        "experience_level": enum_value(interview.experience_level),
        "duration_minutes": interview.duration_minutes,
        "status": enum_value(interview.status),
        "started_at": _time(interview.started_at),
        "completed_at": _time(interview.completed_at),
        "recording_url": interview.recording_url,
        "active_seconds": round(interview.active_seconds or 0.0, 1),
        "overall_score": overall_score,
    }


def message_json(message: Any) -> dict[str, Any]:
    """A transcript line; ``kind`` is "turn" (a question or an answer) or "aside" (a line around the turns: "Sure,
    take your time.", an idle prompt, a rejoin greeting)."""
    return {
        "id": str(message.id),
        "seq": message.seq,
        "role": enum_value(message.role),
        "content": message.content,
        "timestamp": _time(message.timestamp),
        "audio_duration_seconds": message.audio_duration_seconds,
        "metrics": message.metrics,
        "interrupted": message.interrupted,
        "kind": enum_value(message.kind),
    }


def feedback_json(feedback: Any) -> dict[str, Any]:
    """A feedback report (its scores are null until it is ready)."""
    return {
        "status": enum_value(feedback.status),
        "overall_score": feedback.overall_score,
        "technical_depth_score": feedback.technical_depth_score,
        "communication_score": feedback.communication_score,
        "structure_score": feedback.structure_score,
        "confidence_score": feedback.confidence_score,
        "strengths": feedback.strengths,
        "improvements": feedback.improvements,
        "detailed_feedback": feedback.detailed_feedback,
        "error": feedback.error,
        "updated_at": _time(feedback.updated_at),
    }


async def get_profile(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    return web.json_response({"user": profile(auth.user)})


async def patch_profile(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    changes = parse_body(ProfilePatch, await read_json(request))
    user = await request.app[appkeys.DATABASE].update_user(auth.user.id, **changes.model_dump(exclude_none=True))
    return web.json_response({"user": profile(user)})


async def create_interview(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    body = parse_body(CreateInterviewBody, await read_json(request))
    db = request.app[appkeys.DATABASE]
    interview = await db.create_interview(auth.user.id, body.role, body.interview_type, body.duration_minutes)
    if interview is None:
        raise ApiError(402, "no_credits", "You have no interviews left.")
    user = await db.get_user(auth.user.id)
    return web.json_response(
        {"interview": interview_json(interview), "interviews_remaining": user.interviews_remaining}, status=201
    )


async def get_interview(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    db = request.app[appkeys.DATABASE]
    interview = await owned_interview(db, auth.user.id, interview_id(request))
    messages = await db.list_messages(interview.id)
    feedback = await db.get_feedback(interview.id)
    store = request.app[appkeys.RECORDINGS]
    recordings = [recording_json(r, str(interview.id)) for r in store.recordings(str(interview.id))]
    return web.json_response(
        {
            "interview": interview_json(interview, feedback.overall_score if feedback else None),
            "messages": [message_json(m) for m in messages],
            "recordings": recordings,
            "feedback_status": enum_value(feedback.status) if feedback else None,
            "live": bool(request.app[appkeys.CALLS].for_interview(str(interview.id))),
        }
    )


async def interview_history(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    limit = int_query(request, "limit", 20, 1, 100)
    offset = int_query(request, "offset", 0, 0, 1_000_000)
    items, total = await request.app[appkeys.DATABASE].list_interviews(auth.user.id, limit, offset)
    return web.json_response(
        {
            "items": [interview_json(s, s.overall_score) for s in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def complete_interview(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    app = request.app
    interview = await app[appkeys.DATABASE].complete_interview(interview_id(request), auth.user.id)
    if interview is None:
        raise interview_not_found()
    for call in app[appkeys.CALLS].for_interview(str(interview.id)):
        await call.close(COMPLETED_BY_API)
    await app[appkeys.FEEDBACK].interview_completed(interview.id)
    return web.json_response({"interview": interview_json(interview)})


async def get_feedback(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    db = request.app[appkeys.DATABASE]
    interview = await owned_interview(db, auth.user.id, interview_id(request, "session_id"))
    feedback = await db.get_feedback(interview.id)
    if enum_value(interview.status) != "completed" or feedback is None:
        raise ApiError(409, "not_completed", "Feedback is written once the interview is completed.")
    body = {"session_id": str(interview.id), **feedback_json(feedback)}
    return web.json_response(body, status=202 if body["status"] == "pending" else 200)


async def retry_feedback(request: web.Request) -> web.Response:
    auth = await require_auth(request)
    db = request.app[appkeys.DATABASE]
    interview = await owned_interview(db, auth.user.id, interview_id(request, "session_id"))
    feedback = await db.get_feedback(interview.id)
    if feedback is None or enum_value(feedback.status) != "failed":
        raise ApiError(409, "not_failed", "Only a report that failed can be written again.")
    await request.app[appkeys.FEEDBACK].retry(interview.id)
    return web.json_response({"session_id": str(interview.id), "status": "pending"}, status=202)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/user/profile", get_profile)
    app.router.add_patch("/api/user/profile", patch_profile)
    app.router.add_post("/api/interviews/create", create_interview)
    app.router.add_get("/api/interviews/history", interview_history)
    app.router.add_get("/api/interviews/{interview_id}", get_interview)
    app.router.add_post("/api/interviews/{interview_id}/complete", complete_interview)
    app.router.add_get("/api/feedback/{session_id}", get_feedback)
    app.router.add_post("/api/feedback/{session_id}/retry", retry_feedback)
