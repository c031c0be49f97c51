"""The ``mock-interviewer`` command: ``serve`` the app, ``call`` it with the loopback client, ``db`` and ``users``.

The composition root: each subcommand lives next to what it operates (``call`` in ``signaling/client/cli.py``,
``db`` in ``db/cli.py``, ``users`` in ``web/users_cli.py``) and is registered here.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from db.cli import add_db_command
from signaling.client.cli import add_call_command
from web.logging_setup import configure_logging
from web.settings import Settings
from web.users_cli import add_users_command


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


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``serve``, ``call``, ``db``, ``users``."""
    parser = argparse.ArgumentParser(prog="mock-interviewer", description="Real-time AI mock job interviewer.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 8080)")
    serve.add_argument("--workers", type=int, help="worker processes on the port (default: WORKERS, else one per core)")
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one worker of a supervisor
    serve.set_defaults(func=_serve)

    add_call_command(sub)
    add_db_command(sub, lambda: Settings().resolved_database_url)
    add_users_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
