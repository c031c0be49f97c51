"""The ``mock-interviewer`` command: ``serve`` the app, ``call`` it with the loopback client."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import textwrap
from typing import Any

from web.logging_setup import configure_logging
from web.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from web.app import create_app

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    settings = Settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    log = logging.getLogger("mock_interviewer")
    log.info(
        "starting on http://%s:%d (media host addresses: %s)",
        settings.host,
        settings.port,
        ",".join(settings.media_addresses or ["all interfaces"]),
    )
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=10.0,
        print=lambda *_: log.info("ready on http://%s:%d", settings.host, settings.port),
        access_log=None,
    )
    return 0


def _call(args: argparse.Namespace) -> int:
    from signaling.loopback import Answer, CallFailed, run_interview

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
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
                interview_id=args.interview_id,
                interview=interview,
                record=args.record,
                turn_timeout=args.timeout,
            )
        )
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


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_report(report: Any) -> str:
    """The call as a readable table: one block per turn, latency figures in milliseconds."""
    width = 100
    lines = [f"interview {report.interview_id}  call {report.call_id}  ended: {report.ended_reason or '-'}", ""]
    lines += textwrap.wrap(f"agent   {report.greeting}", width, subsequent_indent="        ")
    header = (
        "turn  client  server  endpoint  stt  llm-ttft  tts-first  (ms; client = last voice sent → first voice heard)"
    )
    for turn in report.turns:
        lines.append("")
        lines += textwrap.wrap(f"said    {turn.said}", width, subsequent_indent="        ")
        lines += textwrap.wrap(f"heard   {turn.heard}", width, subsequent_indent="        ")
        lines += textwrap.wrap(f"agent   {turn.reply}", width, subsequent_indent="        ")
    lines += ["", header]
    for number, turn in enumerate(report.turns, 1):
        s = turn.server
        lines.append(
            f"{number:>4}  {_ms(turn.client_response_ms):>6}  {_ms(s.get('response_ms')):>6}  "
            f"{_ms(s.get('endpointing_ms')):>8}  {_ms(s.get('stt_ms')):>3}  {_ms(s.get('llm_ttft_ms')):>8}  "
            f"{_ms(s.get('tts_first_audio_ms')):>9}" + ("  (early reply)" if s.get("early_reply") else "")
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mock-interviewer", description="Real-time AI mock job interviewer.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 8080)")
    serve.set_defaults(func=_serve)

    call = sub.add_parser("call", help="call the server over WebRTC with the loopback client")
    call.add_argument("--server", default="http://127.0.0.1:8080", help="server URL")
    call.add_argument("--say", action="append", default=[], metavar="TEXT", help="an answer, spoken by eSpeak NG")
    call.add_argument("--wav", action="append", default=[], metavar="FILE", help="an answer from a recording")
    call.add_argument("--record", metavar="FILE", help="write everything the agent said to this WAV file")
    call.add_argument("--json", action="store_true", help="print the report as JSON")
    call.add_argument("--interview-id", default="loopback", help="interview to call")
    call.add_argument("--role", default="Software Engineer")
    call.add_argument("--type", default="mixed", choices=["technical", "behavioral", "mixed"])
    call.add_argument("--level", default="mid", choices=["entry", "mid", "senior"])
    call.add_argument("--minutes", type=int, default=20, help="planned length of the interview")
    call.add_argument("--name", default="", help="the candidate's name")
    call.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each agent turn")
    call.set_defaults(func=_call)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
