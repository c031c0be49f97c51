"""Alembic environment: async engines, and a connection handed over by `db.migrate` when there is one.

`db.migrate.upgrade` opens the connection itself (so that it can hold a lock around the upgrade) and passes it in
`config.attributes["connection"]`; the `alembic` command line gets no connection, and this script makes its own
engine from `-x url=...` or the `sqlalchemy.url` option.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from db.engine import create_engine
from db.models import metadata

config = context.config


def _url() -> str:
    """The database URL from `-x url=...`, else from the configuration."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set sqlalchemy.url")
    return url


def run_migrations_offline() -> None:
    """Write the SQL to standard output (`alembic upgrade head --sql`)."""
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a (sync-facing) connection."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    """Make an engine for `url`, run the migrations on one of its connections, and dispose of it."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Use the connection `db.migrate` gave, else connect to the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    asyncio.run(run_async_migrations(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
