"""``mock-interviewer users``: create a user, grant interviews (for operators, tests and benchmarks).

``web/cli.py`` (the command's dispatcher) registers it with ``add_users_command``. Emails and passwords are
checked as at sign-up (``web.schemas``, ``web.security``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from db.cli import with_database
from web.settings import Settings


def add_users_command(subcommands: Any) -> argparse.ArgumentParser:
    """Add the ``users`` subcommand (``users create``, ``users grant``) to ``subcommands`` (an ``argparse``
    subparsers object)."""
    users = subcommands.add_parser("users", help="manage users (for operators, tests and benchmarks)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a user")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name", default="Candidate")
    create.add_argument("--role", default="Software Engineer")
    create.add_argument("--level", default="mid", choices=["entry", "mid", "senior"])
    create.add_argument("--credits", type=int, default=3, help="interviews the user may start")
    create.set_defaults(func=create_user)
    grant = users_sub.add_parser("grant", help="give a user more interviews")
    grant.add_argument("email")
    grant.add_argument("credits", type=int)
    grant.set_defaults(func=grant_interviews)
    return users


def create_user(args: argparse.Namespace) -> int:
    """``users create``: 0 when made, 2 for a bad email or password, 1 when the email is taken."""
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
        user = asyncio.run(with_database(Settings().resolved_database_url, work))
    except EmailTaken:
        print(f"a user with the email {email} already exists", file=sys.stderr)
        return 1
    print(f"created {user.email} ({user.id}) with {user.interviews_remaining} interview(s)")
    return 0


def grant_interviews(args: argparse.Namespace) -> int:
    """``users grant``: 0 with the user's new count, 1 when no user has the email."""

    async def work(database: Any) -> Any:
        return await database.grant_credits(args.email, args.credits)

    user = asyncio.run(with_database(Settings().resolved_database_url, work))
    if user is None:
        print(f"no user with the email {args.email}", file=sys.stderr)
        return 1
    print(f"{user.email} now has {user.interviews_remaining} interview(s)")
    return 0
