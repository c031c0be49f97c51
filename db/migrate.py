"""Bring a database to the newest schema (`alembic upgrade head`), from the server at startup or the CLI.

Several workers may start together: on PostgreSQL the upgrade runs in one transaction holding a transaction-level
advisory lock, so the first one migrates and the others, once they get the lock, find nothing left to do. On
SQLite the workers first take an exclusive lock on a file next to the database (``<file>.migrate.lock``), and the
transaction begins with BEGIN IMMEDIATE, which serialises them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection

from db.engine import BEGIN_IMMEDIATE, async_database_url, create_engine, masked_url

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key: any fixed 64-bit number, the same in every worker ("mockintv" in ASCII).
MIGRATION_LOCK_KEY = 0x6D6F636B696E7476
# Alembic keeps its running context in module globals (`alembic.context`, `alembic.op`), so two upgrades in one
# process must not overlap; between processes, the database lock above does the job.
_alembic_lock = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration built in code, pointing at the migrations inside the installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str) -> None:
    """Upgrade the database at `url` to the newest revision; safe to call from a running event loop.

    Alembic is synchronous and its environment script may start an event loop of its own, so the work runs in a
    worker thread with its own loop and engine.
    """
    await asyncio.to_thread(upgrade_sync, url)


def upgrade_sync(url: str) -> None:
    """Upgrade the database at `url` to the newest revision, for code without an event loop (the CLI)."""
    logger.info("Upgrading database schema at %s", masked_url(url))
    with _alembic_lock, _sqlite_file_lock(url):
        asyncio.run(_upgrade(url))


@contextlib.contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``<database file>.migrate.lock`` while one process migrates a SQLite file."""
    parsed = async_database_url(url)
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


async def _upgrade(url: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                await connection.execution_options(**{BEGIN_IMMEDIATE: True})
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await connection.run_sync(_run_alembic_upgrade, url)
    finally:
        await engine.dispose()


def _run_alembic_upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
