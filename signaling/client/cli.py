"""``mock-interviewer call``: its options, the call, and what it prints.

``web/cli.py`` (the command's dispatcher) registers it with ``add_call_command``. The client itself is
imported when the command runs, so the other subcommands start without aiortc and eSpeak NG.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

#: ``call``'s exit status when the server refused the call for the moment (EX_TEMPFAIL: try again later).
EXIT_TRY_AGAIN = 75


def add_call_command(subcommands: Any) -> argparse.ArgumentParser:
    """Add the ``call`` subcommand to ``subcommands`` (an ``argparse`` subparsers object); it runs ``run_call``."""
    call = subcommands.add_parser("call", help="call the server over WebRTC with the loopback client")
    call.add_argument("--server", default="http://127.0.0.1:8080", help="server URL")
    call.add_argument("--say", action="append", default=[], metavar="TEXT", help="an answer, spoken by eSpeak NG")
    call.add_argument("--wav", action="append", default=[], metavar="FILE", help="an answer from a recording")
    call.add_argument("--record", metavar="FILE", help="write everything the agent said to this WAV file")
    call.add_argument("--json", action="store_true", help="print the report as JSON")
    call.add_argument("--email", help="log in as this user (default: sign up a fresh candidate)")
    call.add_argument("--password", help="the password for --email")
    call.add_argument("--interview-id", help="call this interview of the user (default: create one)")
    call.add_argument("--role", default="Software Engineer")
    call.add_argument("--type", default="mixed", choices=["technical", "behavioral", "mixed"])
    call.add_argument("--level", default="mid", choices=["entry", "mid", "senior"])
    call.add_argument("--minutes", type=int, default=20, help="planned length of the interview")
    call.add_argument("--name", default="Loopback Candidate", help="the fresh candidate's name")
    call.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each agent turn")
    call.add_argument(
        "--transport",
        default="webrtc",
        choices=["webrtc", "ws"],
        help="webrtc (default), or ws: the WebSocket stream /api/interview/stream/{id}",
    )
    call.set_defaults(func=run_call)
    return call


def run_call(args: argparse.Namespace) -> int:
    """Run one call as the options say, print its report (a table, or JSON with ``--json``), and return the exit
    status: 0, 1 when the call failed, ``EXIT_TRY_AGAIN`` when the server asked to try again in a moment."""
    from signaling.client.api import CallFailed, ServerBusy
    from signaling.client.base import Answer
    from signaling.client.interview import run_interview
    from signaling.client.media_setup import prepare_client_process
    from signaling.client.reports import format_report

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.transport == "webrtc":
        prepare_client_process(args.server)
    answers = [Answer.spoken(text) for text in args.say] + [Answer.recording(path) for path in args.wav]
    interview = {
        "role": args.role,
        "interview_type": args.type,
        "experience_level": args.level,
        "duration_minutes": args.minutes,
        "candidate_name": args.name,
    }
    try:
        report = asyncio.run(
            run_interview(
                args.server,
                answers,
                email=args.email,
                password=args.password,
                interview_id=args.interview_id,
                interview=interview,
                record=args.record,
                turn_timeout=args.timeout,
                transport=args.transport,
            )
        )
    except ServerBusy as exc:
        print(f"call refused for now: {exc}", file=sys.stderr)
        return EXIT_TRY_AGAIN
    except (CallFailed, OSError) as exc:
        print(f"call failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
        if args.record:
            print(f"\nagent audio ({report.agent_audio_seconds:.1f} s) written to {args.record}")
    return 0
