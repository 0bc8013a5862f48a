"""The embedded PostgreSQL (pgserver) used when no BOOKING_DATABASE_URL is configured.

pgserver runs initdb and postgres as an unprivileged system user when started as root,
listens only on a Unix socket, and stops the server when the last process using it exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import structlog

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR (root,
    # containers) platformdirs warns and falls back to /tmp, which is what we want anyway.
    warnings.simplefilter("ignore")
    from pgserver.postgres_server import get_server

DATABASE_NAME = "booking"
log = structlog.get_logger(__name__)


def start_embedded_postgres(data_dir: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under data_dir and return a psycopg URL for `database`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    admin_uri = server.get_uri()
    _create_database(admin_uri, database)
    socket_dir = parse_qs(urlparse(admin_uri).query)["host"][0]
    log.info("embedded_postgres_started", data_dir=str(data_dir), socket_dir=socket_dir)
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def _create_database(admin_uri: str, database: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(database)))
