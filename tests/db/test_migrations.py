"""The migrations build exactly the models' schema, and several workers can run them at once."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, pool, text

from db import create_engine
from db.migrate import alembic_config, upgrade
from db.models import metadata
from tests.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"alembic_version", "users", "auth_sessions", "interview_sessions", "interview_messages", "interview_feedback"}


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
    assert await current_revision(empty_database_url) == "0001"

    # The alembic command line path: env.py makes its own engine (in a thread: it runs its own event loop).
    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "base")
    assert await table_names(empty_database_url) == {"alembic_version"}

    await upgrade(empty_database_url)
    assert await schema_differences(empty_database_url) == []


async def test_simultaneous_upgrades_in_one_process(postgres_cluster: PostgresCluster) -> None:
    url = await postgres_cluster.create_database(f"upgrade_{uuid.uuid4().hex[:12]}")

    await asyncio.gather(upgrade(url), upgrade(url), upgrade(url))

    assert await current_revision(url) == "0001"
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
    assert await current_revision(url) == "0001"
    assert await schema_differences(url) == []
