"""The migrations build exactly the models' schema, upgrade a database that holds data, and several workers can run
them at once."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, pool, text
from sqlalchemy.exc import IntegrityError

from db import Database, MessageKind, MessageRole, UTCDateTime, create_engine, utcnow
from db.migrate import alembic_config, upgrade
from db.models import metadata
from tests.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"alembic_version", "users", "auth_sessions", "interview_sessions", "interview_messages", "interview_feedback"}
#: The newest revision.
HEAD = "0002"


async def schema_differences(url: str) -> list:
    """What autogenerate would change to make the database match the models (empty when they agree)."""

    def compare(connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, metadata)

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(empty_database_url: str) -> None:
    await upgrade(empty_database_url)

    assert await schema_differences(empty_database_url) == []
    assert await table_names(empty_database_url) == TABLES


async def test_upgrade_twice_is_harmless_and_downgrade_undoes_it(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    assert await current_revision(empty_database_url) == HEAD

    # The alembic command line path: env.py makes its own engine (in a thread: it runs its own event loop).
    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "base")
    assert await table_names(empty_database_url) == {"alembic_version"}

    await upgrade(empty_database_url)
    assert await schema_differences(empty_database_url) == []


async def test_simultaneous_upgrades_in_one_process(postgres_cluster: PostgresCluster) -> None:
    url = await postgres_cluster.create_database(f"upgrade_{uuid.uuid4().hex[:12]}")

    await asyncio.gather(upgrade(url), upgrade(url), upgrade(url))

    assert await current_revision(url) == HEAD
    assert await schema_differences(url) == []


async def test_simultaneous_upgrades_from_several_workers(postgres_cluster: PostgresCluster) -> None:
    url = await postgres_cluster.create_database(f"workers_{uuid.uuid4().hex[:12]}")
    script = "import sys; from db.migrate import upgrade_sync; upgrade_sync(sys.argv[1])"

    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, url, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = await asyncio.gather(*(worker.communicate() for worker in workers))

    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()
    assert await current_revision(url) == HEAD
    assert await schema_differences(url) == []


# The tables as revision 0001 made them (only the columns without a default), to write rows the way a server of
# that revision did.
_USERS_0001 = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("full_name", sa.String()),
    sa.column("target_role", sa.String()),
    sa.column("experience_level", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_INTERVIEWS_0001 = sa.table(
    "interview_sessions",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("role", sa.String()),
    sa.column("interview_type", sa.String()),
    sa.column("experience_level", sa.String()),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("started_at", UTCDateTime()),
    sa.column("last_activity_at", UTCDateTime()),
)
_MESSAGES_0001 = sa.table(
    "interview_messages",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("seq", sa.Integer()),
    sa.column("role", sa.String()),
    sa.column("content", sa.Text()),
    sa.column("timestamp", UTCDateTime()),
    sa.column("audio_duration_seconds", sa.Float()),
)


async def _fill_0001(url: str) -> uuid.UUID:
    """A user, an interview and two transcript lines written at revision 0001; returns the interview's id."""
    user_id, interview_id, now = uuid.uuid4(), uuid.uuid4(), utcnow()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                _USERS_0001.insert().values(
                    id=user_id,
                    email="old@example.com",
                    full_name="Ada Lovelace",
                    target_role="Backend engineer",
                    experience_level="mid",
                    password_hash="hash",
                    created_at=now,
                    updated_at=now,
                )
            )
            await connection.execute(
                _INTERVIEWS_0001.insert().values(
                    id=interview_id,
                    user_id=user_id,
                    role="Backend engineer",
                    interview_type="technical",
                    experience_level="mid",
                    duration_minutes=20,
                    started_at=now,
                    last_activity_at=now,
                )
            )
            for seq, (role, content) in enumerate(
                [("assistant", "Tell me about a system you built."), ("user", "I built a billing service.")], 1
            ):
                await connection.execute(
                    _MESSAGES_0001.insert().values(
                        id=uuid.uuid4(),
                        session_id=interview_id,
                        seq=seq,
                        role=role,
                        content=content,
                        timestamp=now,
                        audio_duration_seconds=2.0,
                    )
                )
    finally:
        await engine.dispose()
    return interview_id


async def test_upgrading_a_database_with_lines_makes_them_turns(empty_database_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "0001")
    interview_id = await _fill_0001(empty_database_url)

    await upgrade(empty_database_url)

    assert await current_revision(empty_database_url) == HEAD
    assert await schema_differences(empty_database_url) == []
    database = Database(empty_database_url)
    try:
        old = await database.list_messages(interview_id)
        assert [(m.seq, m.content, m.kind) for m in old] == [
            (1, "Tell me about a system you built.", MessageKind.TURN),
            (2, "I built a billing service.", MessageKind.TURN),
        ]
        aside = await database.add_message(
            interview_id, MessageRole.ASSISTANT, "Sure, take your time.", utcnow(), 1.0, kind="aside"
        )
        assert aside.seq == 3
        assert [m.kind for m in await database.list_messages(interview_id)] == ["turn", "turn", "aside"]
        with pytest.raises(ValueError):
            await database.add_message(interview_id, MessageRole.USER, "?", utcnow(), 1.0, kind="chatter")
    finally:
        await database.dispose()

    # The database itself refuses a kind that is neither (the CHECK constraint survived SQLite's table copy).
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE interview_messages SET kind = 'chatter' WHERE seq = 1"))
    finally:
        await engine.dispose()

    # Downgrading drops the column and keeps the lines.
    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "0001")
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("interview_messages")}
            )
            count = (await connection.execute(text("SELECT count(*) FROM interview_messages"))).scalar_one()
    finally:
        await engine.dispose()
    assert "kind" not in columns and count == 3
