"""Shared fixtures: one real PostgreSQL for the whole run, migrated once.

By default an embedded PostgreSQL (pgserver) in a temporary directory; set
BOOKING_TEST_DATABASE_URL to use another server (a fresh database is created on it).
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from booking_server.db.embedded import start_embedded_postgres
from booking_server.db.engine import build_engine, to_psycopg_url
from booking_server.db.migrate import upgrade_to_head
from booking_server.db.unit_of_work import NestedUnitOfWork
from booking_server.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url


def _create_database(server_url: str, name: str) -> str:
    url = make_url(to_psycopg_url(server_url))
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly created, migrated database for this test run."""
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    external = os.environ.get("BOOKING_TEST_DATABASE_URL")
    if external:
        url = _create_database(external, name)
    else:
        # Short path: Unix socket paths are limited to ~100 bytes.
        data_dir = Path(tempfile.mkdtemp(prefix="bktest-"))
        url = start_embedded_postgres(data_dir, database=name)
    engine = build_engine(url, pool_size=2)
    upgrade_to_head(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url, pool_size=24)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def uow_factory(connection: Connection) -> UnitOfWorkFactory:
    """Units of work that commit to savepoints of the test's outer transaction."""

    def make() -> UnitOfWork:
        return NestedUnitOfWork(connection)

    return make


@pytest.fixture
def busy_address() -> Iterator[str]:
    """127.0.0.1:<port> with another program listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"127.0.0.1:{listener.getsockname()[1]}"
