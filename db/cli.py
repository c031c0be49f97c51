"""``mock-interviewer db``: database maintenance, and running a command's work against an up-to-date database.

``web/cli.py`` (the command's dispatcher) registers it with ``add_db_command``, passing where the database is:
this package reads no settings of the application.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from db.repository import Database

T = TypeVar("T")


def add_db_command(subcommands: Any, database_url: Callable[[], str]) -> argparse.ArgumentParser:
    """Add the ``db`` subcommand (``db upgrade``) to ``subcommands`` (an ``argparse`` subparsers object);
    ``database_url`` is called when the command runs and gives the database's URL."""

    def run_upgrade(args: argparse.Namespace) -> int:
        from db.migrate import upgrade_sync  # imported when the command runs: the others start without Alembic

        upgrade_sync(database_url())
        print("database is up to date")
        return 0

    db = subcommands.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the schema migrations (serve does it at start too)").set_defaults(
        func=run_upgrade
    )
    return db


async def with_database(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Upgrade the database at ``url``, run ``work`` with a ``Database`` on it, and close the database."""
    from db.migrate import upgrade
    from db.repository import Database

    await upgrade(url)
    database = Database(url)
    try:
        return await work(database)
    finally:
        await database.dispose()
