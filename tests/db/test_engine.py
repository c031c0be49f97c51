"""URLs and SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db import Database, create_engine, default_database_url, masked_url
from db.engine import async_database_url


def test_default_url_is_the_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/mock_interviewer.db"


def test_user_urls_are_rewritten_for_the_async_drivers() -> None:
    assert str(async_database_url("postgres://u@db/app")) == "postgresql+asyncpg://u@db/app"
    assert str(async_database_url("postgresql://u@db/app")) == "postgresql+asyncpg://u@db/app"
    assert str(async_database_url("postgresql+asyncpg://u@db/app")) == "postgresql+asyncpg://u@db/app"
    assert str(async_database_url("postgresql://u@db/app?sslmode=require")) == (
        "postgresql+asyncpg://u@db/app?ssl=require"
    )
    assert str(async_database_url("sqlite:///data/x.db")) == "sqlite+aiosqlite:///data/x.db"


def test_password_is_masked() -> None:
    assert masked_url("postgresql://app:s3cret@db:5432/app") == "postgresql://app:***@db:5432/app"
    database = Database("postgresql://app:s3cret@db:5432/app")
    assert database.masked_url == "postgresql://app:***@db:5432/app"


async def test_sqlite_is_set_up_for_several_writers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/new/folder/app.db")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}
    assert (tmp_path / "new" / "folder" / "app.db").exists()


async def test_ping(database: Database) -> None:
    assert await database.ping()


async def test_ping_is_false_when_the_server_is_down() -> None:
    database = Database("postgresql://nobody:pw@127.0.0.1:1/none")
    try:
        assert await database.ping() is False
    finally:
        await database.dispose()
