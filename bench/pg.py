"""The benchmark's own embedded PostgreSQL: a fresh data directory, deleted at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg
from pgserver._commands import POSTGRES_BIN_PATH
from pgserver.postgres_server import get_server
from psycopg import sql

BIN_DIR: Path = POSTGRES_BIN_PATH


def pgserver_user() -> str | None:
    """pgserver runs postgres as the `pgserver` system user when started as root."""
    return "pgserver" if os.geteuid() == 0 else None


# pg_ctl is started without Python-level user switching (runuser does it): forked from a process
# full of gRPC threads (the chaos drills), pgserver's own way once died with SIGSEGV before exec.
_ATTEMPTS = 3


def _pg_ctl(pgdata: Path, args: list[str], *, timeout: float) -> int:
    command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args]
    user = pgserver_user()
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    code = -1
    for _ in range(_ATTEMPTS):
        # DEVNULL, not pipes: a started postmaster would hold a pipe open and hang the call.
        done = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False
        )
        code = done.returncode
        if code >= 0:  # an exit, not a signal: retrying would not change the answer
            return code
    return code


def stop_cluster(pgdata: Path) -> None:
    """Fast shutdown of a pgserver cluster (open sessions are ended); a no-op when it is stopped."""
    _pg_ctl(pgdata, ["-w", "-m", "fast", "stop"], timeout=60)
    if _pg_ctl(pgdata, ["status"], timeout=10) == 0:
        raise RuntimeError(f"PostgreSQL under {pgdata} did not stop")


def start_cluster(pgdata: Path, *, socket_dir: Path | str) -> None:
    """Start a stopped pgserver cluster again on the same socket directory, as pgserver does."""
    args = ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pgdata / "log"), "start"]
    code = _pg_ctl(pgdata, args, timeout=30)
    if code != 0:
        raise RuntimeError(f"pg_ctl start under {pgdata} exited {code}")


@dataclass
class EmbeddedPostgres:
    """One postgres server; every world and the floor get their own database on it."""

    root: Path
    server: Any  # pgserver.PostgresServer (untyped)
    socket_dir: str

    @classmethod
    def start(cls) -> EmbeddedPostgres:
        # Short path under /tmp: the Unix socket lives in the data directory and socket paths
        # are limited to ~100 bytes.
        root = Path(tempfile.mkdtemp(prefix="bkb-", dir="/tmp"))
        server = get_server(root / "pg", cleanup_mode="delete")
        socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
        return cls(root=root, server=server, socket_dir=socket_dir)

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def postmaster_pid(self) -> int:
        return int(self.server.get_pid())

    def libpq_url(self, database: str = "postgres") -> str:
        """A plain libpq URL (psycopg, psql)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def service_url(self, database: str) -> str:
        """The BOOKING_DATABASE_URL form the service expects (SQLAlchemy + psycopg 3)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def client_args(self) -> list[str]:
        """Connection flags for psql/pgbench. As root, pgserver runs postgres as user `pgserver`,
        so the OS user name is no default role: name the `postgres` role explicitly."""
        return ["-h", self.socket_dir, "-U", "postgres"]

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def execute(self, statement: str, database: str = "postgres") -> None:
        with psycopg.connect(self.libpq_url(database), autocommit=True) as conn:
            conn.execute(statement.encode())

    def version(self) -> str:
        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def settings(self) -> dict[str, str]:
        """The few settings that change the numbers, recorded with them."""
        names = ("fsync", "synchronous_commit", "shared_buffers", "max_connections")
        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]

    def stop(self) -> None:
        """Stop the server and delete its data (cleanup_mode="delete"), then the temp root."""
        self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)
