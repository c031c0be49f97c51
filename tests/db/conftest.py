"""Database fixtures: every test using `database` runs twice, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db import Database, ExperienceLevel, User
from db.migrate import upgrade
from tests.postgres import PostgresCluster, postgres_cluster  # noqa: F401  (a fixture, used through pytest)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new database with no tables: a file in tmp_path, or a fresh database in the test cluster."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return await cluster.create_database(f"test_{uuid.uuid4().hex[:16]}")


@pytest.fixture
async def database(empty_database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    await upgrade(empty_database_url)
    opened = Database(empty_database_url)
    yield opened
    await opened.dispose()


@pytest.fixture
def make_user(database: Database):
    """Create users with distinct emails: `await make_user(credits=3)`."""

    async def make(credits: int = 3, level: ExperienceLevel = ExperienceLevel.MID) -> User:
        email = f"candidate-{uuid.uuid4().hex[:8]}@example.com"
        return await database.create_user(email, "hash", "Ada Lovelace", "Backend engineer", level, credits)

    return make
