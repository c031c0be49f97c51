"""The ``mock-interviewer`` command: ``serve`` the app, ``call`` it with the loopback client."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from signaling.client.cli import add_call_command
from web.logging_setup import configure_logging
from web.settings import Settings


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mock-interviewer", description="Real-time AI mock job interviewer.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 8080)")
    serve.add_argument("--workers", type=int, help="worker processes on the port (default: WORKERS, else one per core)")
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one worker of a supervisor
    serve.set_defaults(func=_serve)

    add_call_command(sub)

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
