"""A throwaway PostgreSQL cluster for the tests: started once per test run, on 127.0.0.1 and a free port.

Use it from any test package:

    from tests.postgres import postgres_cluster  # noqa: F401  (a session fixture; one cluster for the whole run)

    async def test_something(postgres_cluster):
        url = await postgres_cluster.create_database("my_test")   # a postgresql+asyncpg:// URL

or, outside pytest fixtures, `cluster = start_postgres()` ... `cluster.stop()`. The cluster is made by Debian's
`initdb`/`pg_ctl` (newest version under /usr/lib/postgresql, else from PATH); they refuse to run as root, so as
root they run as the `postgres` user. Nothing is skipped when PostgreSQL is missing: `make test` installs it.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

SUPERUSER = "postgres"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SETTINGS = {
    # Speed over durability: the cluster is thrown away after the run.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresNotInstalled(RuntimeError):
    """PostgreSQL's server programs are not on this machine."""


@dataclass
class PostgresCluster:
    """A running cluster: a superuser with a password, reachable on 127.0.0.1:`port` only."""

    root: Path
    bin_dir: Path
    port: int
    password: str
    prefix: list[str] = field(default_factory=list)
    _stopped: bool = False

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    def url(self, dbname: str) -> str:
        """The SQLAlchemy async URL of a database in this cluster."""
        return f"postgresql+asyncpg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    async def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally as a copy of `template`, which must have no connections) and return
        its URL."""
        statement = f'CREATE DATABASE "{_checked_name(name)}"'
        if template is not None:
            statement += f' TEMPLATE "{_checked_name(template)}"'
        await self._execute(statement)
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drop a database, closing its connections first."""
        await self._execute(f'DROP DATABASE IF EXISTS "{_checked_name(name)}" WITH (FORCE)')

    async def _execute(self, statement: str) -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, password=self.password, database="postgres"
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def stop(self) -> None:
        """Stop the server at once and remove its folder; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        try:
            _run(
                [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"]
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_postgres_bin_dir() -> Path:
    """The folder holding `initdb` and `pg_ctl`: Debian's newest /usr/lib/postgresql/N/bin, else from PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)

    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True):
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    raise PostgresNotInstalled(
        "PostgreSQL's initdb and pg_ctl were not found (looked in /usr/lib/postgresql/*/bin and PATH). "
        "The database tests run on PostgreSQL as well as SQLite: `make test` installs Debian's postgresql "
        "package when it is missing, or install it yourself (apt-get install postgresql)."
    )


def start_postgres(base_dir: Path | None = None) -> PostgresCluster:
    """Create and start a cluster in a new temporary folder; the caller stops it."""
    bin_dir = find_postgres_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="mock-interviewer-pg-", dir=base_dir))
    prefix = _command_prefix()
    try:
        password = os.urandom(16).hex()
        (root / "sockets").mkdir()
        password_file = root / "password"
        password_file.write_text(password + "\n")
        if prefix and prefix[0] == "runuser":
            for path in (root, root / "sockets", password_file):
                shutil.chown(path, SUPERUSER, SUPERUSER)
        _run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                SUPERUSER,
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=root,
        )
        password_file.unlink()
        cluster = PostgresCluster(root=root, bin_dir=bin_dir, port=0, password=password, prefix=prefix)
        _start(cluster)
        return cluster
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _start(cluster: PostgresCluster, attempts: int = 5) -> None:
    """Start the server on a free port of 127.0.0.1, trying another port if one is taken meanwhile."""
    config = cluster.data_dir / "postgresql.conf"
    for attempt in range(attempts):
        cluster.port = _free_port()
        settings = {
            **_SETTINGS,
            "listen_addresses": "'127.0.0.1'",
            "port": str(cluster.port),
            "unix_socket_directories": f"'{cluster.root / 'sockets'}'",
        }
        with config.open("a") as file:  # the last value of a setting wins
            file.write("\n# tests/postgres.py\n")
            file.writelines(f"{name} = {value}\n" for name, value in settings.items())
        log = cluster.root / "server.log"
        try:
            pg_ctl = str(cluster.bin_dir / "pg_ctl")
            command = [*cluster.prefix, pg_ctl, "-D", str(cluster.data_dir), "-l", str(log), "-w", "-t", "60", "start"]
            _run(command, cwd=cluster.root)
            return
        except RuntimeError as exc:
            if attempt == attempts - 1:
                server_log = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"PostgreSQL did not start: {exc}\nIts log:\n{server_log}") from None


_shared: PostgresCluster | None = None
_shared_lock = threading.Lock()


def shared_postgres() -> PostgresCluster:
    """The test run's cluster, started on first use and stopped when the process exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_postgres()
            atexit.register(_shared.stop)
        return _shared


@pytest.fixture(scope="session")
def postgres_cluster() -> PostgresCluster:
    """The PostgreSQL cluster shared by every test of the run (stopped when the run ends)."""
    return shared_postgres()


def _command_prefix() -> list[str]:
    """How to run PostgreSQL's programs, which refuse to run as root.

    As root: as the `postgres` user (Debian's package creates it). As root of a user namespace where that user
    does not exist (`unshare --map-root-user`, as `make test` does for a normal user): in a nested namespace that
    maps us back to our own outside ids. Otherwise: directly.
    """
    if os.geteuid() != 0:
        return []
    try:
        postgres_uid: int | None = pwd.getpwnam(SUPERUSER).pw_uid
    except KeyError:
        postgres_uid = None
    uid_map = _id_map("uid_map")
    if postgres_uid is not None and any(inner <= postgres_uid < inner + count for inner, _, count in uid_map):
        return ["runuser", "-u", SUPERUSER, "--"]
    outer_uid = next((outer for inner, outer, _ in uid_map if inner == 0), 0)
    outer_gid = next((outer for inner, outer, _ in _id_map("gid_map") if inner == 0), 0)
    if outer_uid == 0:
        raise RuntimeError(f"running as root without a {SUPERUSER!r} user: PostgreSQL cannot be started")
    return ["unshare", f"--map-user={outer_uid}", f"--map-group={outer_gid or outer_uid}", "--"]


def _id_map(name: str) -> list[tuple[int, int, int]]:
    """This process's user namespace id map: (inside id, outside id, count) ranges."""
    try:
        lines = Path(f"/proc/self/{name}").read_text().splitlines()
    except OSError:
        return [(0, 0, 4294967295)]
    return [(int(a), int(b), int(c)) for a, b, c in (line.split() for line in lines if line.strip())]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"database names here are lower-case identifiers, not {name!r}")
    return name


def _run(command: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
