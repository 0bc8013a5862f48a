"""The embedded PostgreSQL (pgserver) used when no BOOKING_DATABASE_URL is configured.

pgserver runs initdb and postgres as an unprivileged system user when started as root,
listens only on a Unix socket, and stops the server when the last process using it exits.
It knows "the processes using it" from a list of pids it keeps beside the cluster; a process
killed with SIGKILL never removes its pid, and the last survivor would then leave PostgreSQL
running forever. So before joining, pids of processes that no longer exist are dropped.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import structlog

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR (root,
    # containers) platformdirs warns and falls back to /tmp, which is what we want anyway.
    warnings.simplefilter("ignore")
    from pgserver.postgres_server import PostgresServer, get_server

DATABASE_NAME = "booking"
log = structlog.get_logger(__name__)


def start_embedded_postgres(data_dir: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under data_dir and return a psycopg URL for `database`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pg"
    others = _live_users(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    admin_uri = server.get_uri()
    _create_database(admin_uri, database)
    socket_dir = parse_qs(urlparse(admin_uri).query)["host"][0]
    event = "embedded_postgres_joined" if others else "embedded_postgres_started"
    log.info(event, data_dir=str(data_dir), socket_dir=socket_dir, other_processes=len(others))
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def _live_users(pgdata: Path) -> list[int]:
    """The other live processes using the cluster, after dropping the pids of dead ones.

    The file and its lock are pgserver's own (pinned version, pgserver/postgres_server.py).
    """
    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:  # pgserver's own inter-process lock over that file
        pids: list[int] = json.loads(handles.read_text()) if handles.exists() else []
        live = [pid for pid in pids if _alive(pid)]
        if live != pids:
            log.warning("embedded_postgres_dead_users_dropped", pids=sorted(set(pids) - set(live)))
            handles.write_text(json.dumps(live))
    return [pid for pid in live if pid != os.getpid()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _create_database(admin_uri: str, database: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database)))
