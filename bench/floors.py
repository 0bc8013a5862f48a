"""The two floors from shared/bench, measured in the same run on the same machine and server.

- floor_assign.sql under pgbench: the database work one 30-session assignment cannot avoid,
  on the benchmark's own PostgreSQL (database `floor`): the ceiling for assignments/s, and
  PostgreSQL's CPU milliseconds per transaction, the floor of its CPU cost per assignment.
- grpc_floor.py: health-Check QPS of a bare Python gRPC server: the ceiling for any call here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from bench.cpu import ms_per_unit, postgres_cpu_during
from bench.pg import BIN_DIR, EmbeddedPostgres

FLOOR_DATABASE = "floor"
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_GRPC = re.compile(r"qps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+)")


class FloorError(RuntimeError):
    """A floor could not be measured; the run goes on and reports it as missing."""


def shared_dir() -> Path:
    """shared/bench next to the repository checkout, or BENCH_SHARED_DIR."""
    override = os.environ.get("BENCH_SHARED_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "bench"


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    seconds: float
    tps: float
    latency_avg_ms: float
    failed: int
    transactions: int
    # PostgreSQL's CPU (postmaster and children, bench/cpu.py) while pgbench ran; set by run_pgbench.
    postgres_cpu_seconds: float | None = None
    postgres_cpu_ms_per_transaction: float | None = None

    @classmethod
    def parse(cls, output: str, *, clients: int, seconds: float) -> PgbenchResult:
        tps, latency = _TPS.search(output), _LATENCY.search(output)
        processed = _PROCESSED.search(output)
        if tps is None or latency is None or processed is None:
            raise FloorError(f"unexpected pgbench output:\n{output[-1500:]}")
        failed = _FAILED.search(output)
        return cls(
            clients,
            seconds,
            float(tps.group(1)),
            float(latency.group(1)),
            int(failed.group(1)) if failed else 0,
            int(processed.group(1)),
        )


@dataclass(frozen=True)
class GrpcFloorResult:
    mode: str
    concurrency: int
    seconds: float
    qps: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def parse(cls, output: str, *, mode: str, concurrency: int, seconds: float) -> GrpcFloorResult:
        match = _GRPC.search(output)
        if match is None:
            raise FloorError(f"unexpected grpc_floor output:\n{output[-1500:]}")
        return cls(
            mode, concurrency, seconds, float(match.group(1)), float(match.group(2)), float(match.group(3))
        )


def _run(command: list[str], *, cwd: Path, timeout: float) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise FloorError(f"{Path(command[0]).name} exited {result.returncode}:\n{result.stderr[-1500:]}")
    return result.stdout + result.stderr


def prepare_floor_database(pg: EmbeddedPostgres) -> None:
    directory = shared_dir()
    pg.create_database(FLOOR_DATABASE)
    schema = directory / "floor_schema.sql"
    _run(
        [
            str(BIN_DIR / "psql"),
            *pg.client_args(),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            str(schema),
            FLOOR_DATABASE,
        ],
        cwd=directory,
        timeout=60,
    )


def run_pgbench(pg: EmbeddedPostgres, *, clients: int, seconds: int) -> PgbenchResult:
    directory = shared_dir()
    threads = min(clients, 2)  # the README's -j 2: one pgbench thread per core
    command = [
        str(BIN_DIR / "pgbench"),
        *pg.client_args(),
        "-n",
        "-f",
        str(directory / "floor_assign.sql"),
        "-c",
        str(clients),
        "-j",
        str(threads),
        "-T",
        str(seconds),
        FLOOR_DATABASE,
    ]
    output, cpu_seconds = postgres_cpu_during(
        pg.postmaster_pid, lambda: _run(command, cwd=directory, timeout=seconds + 60)
    )
    result = PgbenchResult.parse(output, clients=clients, seconds=seconds)
    return replace(
        result,
        postgres_cpu_seconds=round(cpu_seconds, 2),
        postgres_cpu_ms_per_transaction=ms_per_unit(cpu_seconds, result.transactions),
    )


def run_grpc_floor(*, mode: str = "sync", seconds: int, concurrency: int) -> GrpcFloorResult:
    directory = shared_dir()
    command = [sys.executable, str(directory / "grpc_floor.py"), mode, str(seconds), str(concurrency)]
    output = _run(command, cwd=directory, timeout=seconds + 60)
    return GrpcFloorResult.parse(output, mode=mode, concurrency=concurrency, seconds=seconds)
