"""Fixtures for the e2e tests: short temporary directories, log folders, fresh databases.

The servers themselves are started by tests/support/processes.py, one helper per need, so
each test module decides how many processes it runs and against which database.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from booking.v1 import booking_service_pb2_grpc
from booking_server.db.engine import build_engine
from booking_server.db.migrate import upgrade_to_head
from sqlalchemy import Engine

from tests.support.databases import create_empty_database
from tests.support.processes import ServerProcess, run_cli, service_env, serving


@pytest.fixture
def short_dir() -> Iterator[Callable[[str], Path]]:
    """Makes directories under /tmp with short names: Unix socket paths must stay < 100 bytes.

    pytest's tmp_path is too deep for the socket PostgreSQL creates inside its data directory.
    """
    made: list[Path] = []

    def make(prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        made.append(path)
        return path

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where server stdout/stderr go; pytest keeps the last runs' tmp_path for a post-mortem."""
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def empty_database_url(database_url: str) -> str:
    return create_empty_database(database_url)


@pytest.fixture
def fresh_engine(empty_database_url: str) -> Iterator[Engine]:
    """An engine on `empty_database_url`, migrated: for servers that must not share rows."""
    engine = build_engine(empty_database_url, pool_size=2)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def replica_env(database_url: str, **extra: str) -> dict[str, str]:
    """A `serve` replica's environment on the shared test database, promotion off: the races these
    modules run must not be joined by promotions of the purchases they leave waiting
    (tests/e2e/test_promotion_replicas.py runs it on purpose)."""
    return {
        "BOOKING_DATABASE_URL": database_url,
        "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
        "BOOKING_PROMOTION_POLL_SECONDS": "0",
        **extra,
    }


Stubs = tuple[booking_service_pb2_grpc.BookingServiceStub, booking_service_pb2_grpc.BookingServiceStub]


@pytest.fixture(scope="module")
def replicas(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two `booking-service serve` replicas sharing the test database, for one test module."""
    env = replica_env(database_url)
    log_dir = tmp_path_factory.mktemp("replicas")
    with serving(env, log_dir=log_dir, name="a") as first, serving(env, log_dir=log_dir, name="b") as second:
        yield first, second


@pytest.fixture(scope="module")
def channels(
    replicas: tuple[ServerProcess, ServerProcess],
) -> Iterator[tuple[grpc.Channel, grpc.Channel]]:
    with (
        grpc.insecure_channel(replicas[0].address) as first,
        grpc.insecure_channel(replicas[1].address) as second,
    ):
        yield first, second


@pytest.fixture
def stubs(channels: tuple[grpc.Channel, grpc.Channel]) -> Stubs:
    """A BookingService stub per replica."""
    return (
        booking_service_pb2_grpc.BookingServiceStub(channels[0]),
        booking_service_pb2_grpc.BookingServiceStub(channels[1]),
    )


@pytest.fixture(scope="module")
def demo_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`serve` on a database of its own, prepared as a user would: `migrate`, then `seed-demo`."""
    # Heartbeats every second: a watcher (the TypeScript sibling) knows its stream is live at once.
    env = {
        "BOOKING_DATABASE_URL": create_empty_database(database_url),
        "BOOKING_WATCH_HEARTBEAT_SECONDS": "1",
    }
    for command in ("migrate", "seed-demo"):
        done = run_cli(command, service_env(env))
        assert done.returncode == 0, f"{command}: {done.stderr}"
    with serving(env, log_dir=tmp_path_factory.mktemp("demo")) as server:
        yield server
