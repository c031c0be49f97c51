"""Async engines for SQLite (the default, a file in DATA_DIR) and PostgreSQL.

SQLite is set up for several writers: WAL journal, foreign keys on, a 30 s busy timeout, and transactions begun
by us rather than by the driver, so that a transaction that will write can start with `BEGIN IMMEDIATE` (pass the
`BEGIN_IMMEDIATE` execution option): it then waits for the write lock up front instead of failing half way with
"database is locked" when two transactions that both read first try to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_FILE_NAME = "mock_interviewer.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option: on SQLite, begin the transaction with BEGIN IMMEDIATE (take the write lock first).
BEGIN_IMMEDIATE = "mock_interviewer_begin_immediate"

_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
}


def default_database_url(data_dir: Path) -> str:
    """The SQLite file in DATA_DIR, as an async SQLAlchemy URL."""
    return f"sqlite+aiosqlite:///{(data_dir / SQLITE_FILE_NAME).absolute()}"


def async_database_url(url: str) -> URL:
    """Rewrite a URL as users write it (`postgres://`, `postgresql://`, `sqlite:///`) for the async drivers.

    libpq's `sslmode` query parameter becomes asyncpg's `ssl`, which takes the same values.
    """
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    if parsed.drivername == "postgresql+asyncpg" and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed


def masked_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and the status page."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; for SQLite the folder is created and the connection set up for several writers.

    Extra keyword arguments go to SQLAlchemy's `create_async_engine` (e.g. `poolclass=NullPool`).
    """
    parsed = async_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, **kwargs)
        _set_up_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (the repository hands them out detached)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _set_up_sqlite(engine: AsyncEngine) -> None:
    """Per-connection pragmas, and BEGIN emitted by SQLAlchemy instead of the sqlite3 module's implicit one."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: the "begin" listener below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
