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

#: ``call``'s exit status when the server refused the call for the moment (EX_TEMPFAIL: try again later).
EXIT_TRY_AGAIN = 75


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.workers is not None:
        overrides["workers"] = args.workers
    settings = Settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    problem = settings.secret_key_problem() or settings.question_banks_problem()
    if problem:
        logging.getLogger("mock_interviewer").error("refusing to start: %s", problem)
        print(f"mock-interviewer: {problem}", file=sys.stderr)
        return 2
    workers = 1 if args.worker else settings.worker_count
    if workers > 1:
        from web.supervisor import Supervisor

        try:
            supervisor = Supervisor(settings, workers)
        except ValueError as exc:
            print(f"mock-interviewer: {exc}", file=sys.stderr)
            return 2
        return supervisor.run()
    from web.server import run_event_loop, serve

    try:
        run_event_loop(serve(settings, reuse_port=args.worker), settings.event_loop)
    except Exception:
        # One log line (JSON with LOG_FORMAT=json) rather than a bare traceback on stderr.
        logging.getLogger("mock_interviewer").exception("the server failed")
        return 1
    return 0


def _call(args: argparse.Namespace) -> int:
    from signaling.loopback import Answer, CallFailed, ServerBusy, run_interview

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


def _db_upgrade(args: argparse.Namespace) -> int:
    from db.migrate import upgrade_sync

    settings = Settings()
    upgrade_sync(settings.resolved_database_url)
    print("database is up to date")
    return 0


async def _with_database(work: Any) -> Any:
    from db.migrate import upgrade
    from db.repository import Database

    settings = Settings()
    await upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    try:
        return await work(database)
    finally:
        await database.dispose()


def _users_create(args: argparse.Namespace) -> int:
    from db.repository import EmailTaken
    from web.schemas import check_email
    from web.security import hash_password, password_problem

    try:
        email = check_email(args.email)
    except ValueError:
        print(f"not an email address: {args.email}", file=sys.stderr)
        return 2
    problem = password_problem(args.password, email)
    if problem:
        print(problem, file=sys.stderr)
        return 2

    async def work(database: Any) -> Any:
        return await database.create_user(
            email=email,
            password_hash=hash_password(args.password),
            full_name=args.name,
            target_role=args.role,
            experience_level=args.level,
            interviews_remaining=args.credits,
        )

    try:
        user = asyncio.run(_with_database(work))
    except EmailTaken:
        print(f"a user with the email {email} already exists", file=sys.stderr)
        return 1
    print(f"created {user.email} ({user.id}) with {user.interviews_remaining} interview(s)")
    return 0


def _users_grant(args: argparse.Namespace) -> int:
    async def work(database: Any) -> Any:
        return await database.grant_credits(args.email, args.credits)

    user = asyncio.run(_with_database(work))
    if user is None:
        print(f"no user with the email {args.email}", file=sys.stderr)
        return 1
    print(f"{user.email} now has {user.interviews_remaining} interview(s)")
    return 0


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_report(report: Any) -> str:
    """The call as a readable table: one block per turn, latency figures in milliseconds."""
    width = 100
    lines = [
        f"candidate {report.user_email}  interview {report.interview_id}",
        f"call {report.call_id}  ended: {report.ended_reason or '-'}",
        "",
    ]
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
    serve.add_argument("--workers", type=int, help="worker processes on the port (default: WORKERS, else one per core)")
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one worker of a supervisor
    serve.set_defaults(func=_serve)

    call = sub.add_parser("call", help="call the server over WebRTC with the loopback client")
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
    call.set_defaults(func=_call)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the schema migrations (serve does it at start too)").set_defaults(
        func=_db_upgrade
    )

    users = sub.add_parser("users", help="manage users (for operators, tests and benchmarks)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a user")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name", default="Candidate")
    create.add_argument("--role", default="Software Engineer")
    create.add_argument("--level", default="mid", choices=["entry", "mid", "senior"])
    create.add_argument("--credits", type=int, default=3, help="interviews the user may start")
    create.set_defaults(func=_users_create)
    grant = users_sub.add_parser("grant", help="give a user more interviews")
    grant.add_argument("email")
    grant.add_argument("credits", type=int)
    grant.set_defaults(func=_users_grant)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
