"""Workers starting together on one host agree: one generated SECRET_KEY, one migration of a fresh SQLite file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import text

from db import create_engine
from db.engine import default_database_url

ROOT = Path(__file__).resolve().parents[2]


async def run_together(script: str, *args: str, count: int = 4) -> list[str]:
    """Start ``count`` Python processes at once; each waits for a shared go-file, then runs ``script``."""
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            *args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    outputs = await asyncio.gather(*(worker.communicate() for worker in workers))
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()
    return [stdout.decode().strip() for stdout, _ in outputs]


GO = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[1]) / "go"
while not go.exists():
    time.sleep(0.001)
"""


async def test_workers_starting_together_generate_one_secret_key(tmp_path):
    script = (
        GO + "from web.security import FileOrEnvSecretKey; print(FileOrEnvSecretKey(None, Path(sys.argv[1])).get())"
    )
    started = asyncio.ensure_future(run_together(script, str(tmp_path), count=6))
    await asyncio.sleep(1.0)  # every process is waiting at the line
    (tmp_path / "go").touch()
    keys = await started
    assert len(set(keys)) == 1 and len(keys[0]) > 40
    assert (tmp_path / "secret_key").read_text().strip() == keys[0]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "secret_key"]  # no temporary file left


async def test_workers_starting_together_migrate_one_fresh_sqlite_file_once(tmp_path):
    url = default_database_url(tmp_path / "data")
    script = GO + "from db.migrate import upgrade_sync; upgrade_sync(sys.argv[2])"
    started = asyncio.ensure_future(run_together(script, str(tmp_path), url, count=4))
    await asyncio.sleep(1.0)
    (tmp_path / "go").touch()
    await started
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    assert [row[0] for row in versions] == ["0002"]
