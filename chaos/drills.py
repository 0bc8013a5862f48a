"""The process drills: overload waves, backends terminated, PostgreSQL restarted, kill -9.

Each drill runs against two real server processes on one database, keeps a client-side ledger
and ends with its verification (chaos/ledger.py); `Drill` sizes say how long each part lasts.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import psycopg
from booking.v1 import booking_service_pb2_grpc
from booking.v1 import common_pb2 as common
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.pg import EmbeddedPostgres, start_cluster, stop_cluster
from bench.service import RunningService, start_service
from bench.workload import Workload
from chaos.calls import OK, answer_of
from chaos.ledger import Ledger
from chaos.load import Load
from chaos.report import DrillResult

# The servers' own jobs stay on (the reconciler repairs deferred syncs) but promotion is off:
# it would change waitlisted purchases under the ledger, and replays would then differ.
SERVER_ENV = {
    "BOOKING_RECONCILER_INTERVAL_SECONDS": "1",
    "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
    "BOOKING_PROMOTION_POLL_SECONDS": "0",
    "BOOKING_HEALTH_POLL_SECONDS": "0.5",
}
NEVER = frozenset({"INTERNAL", "UNKNOWN"})
LOAD_DEADLINE_SECONDS = 5.0
SERVING = health_pb2.HealthCheckResponse.SERVING
BOOKING = "booking.v1.BookingService"


@dataclass(frozen=True)
class Sizes:
    """How long each drill runs, and how hard: `make chaos` and the smoke in `make test`."""

    callers: int
    overload_waves: int
    overload_wave_calls: int
    terminate_seconds: float
    restart_down_seconds: float
    kill_seconds: float


FULL = Sizes(
    callers=8,
    overload_waves=3,
    overload_wave_calls=200,
    terminate_seconds=60,
    restart_down_seconds=10,
    kill_seconds=60,
)
SMOKE = Sizes(
    callers=4,
    overload_waves=1,
    overload_wave_calls=100,
    terminate_seconds=3,
    restart_down_seconds=2,
    kill_seconds=4,
)


@dataclass
class Cluster:
    """One database, two replicas on fixed addresses (a killed one comes back on its address)."""

    pg: EmbeddedPostgres
    database: str
    work_dir: Path
    world_file: Path
    targets: tuple[str, str]
    servers: list[RunningService] = field(default_factory=list)
    _seeds: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def libpq_url(self) -> str:
        return self.pg.libpq_url(self.database)

    def start(self, index: int) -> RunningService:
        server = start_service(
            self.pg.service_url(self.database),
            self.work_dir / f"server-{index}.log",
            None,
            target=self.targets[index],
            extra_env=SERVER_ENV,
        )
        if index < len(self.servers):
            self.servers[index] = server
        else:
            self.servers.append(server)
        return server

    def workload(self) -> Workload:
        return Workload.from_file(self.world_file, seed=next(self._seeds), validate_only=False)

    def load(self, ledger: Ledger, result: DrillResult, sizes: Sizes) -> Load:
        """Steady assignments on both replicas, a fresh request stream each time."""
        return Load(
            list(self.targets),
            self.workload(),
            ledger,
            result,
            callers=sizes.callers,
            deadline_seconds=LOAD_DEADLINE_SECONDS,
        )

    def verify(self, ledger: Ledger, result: DrillResult) -> None:
        for finding in ledger.verify(self.targets[1], self.libpq_url):
            result.find(finding)
        for key in result.answers:
            if key.split()[0] in NEVER:
                result.find(f"{result.answers[key]} answers '{key}'")

    def log_events(self, index: int, event: str) -> int:
        log = self.servers[index].log_path
        return log.read_text(errors="replace").count(f'"event": "{event}"') if log.exists() else 0


def _timed(result: DrillResult, work: Callable[[], None]) -> DrillResult:
    started = time.monotonic()
    try:
        work()
    finally:
        result.seconds = time.monotonic() - started
    return result


def _unexpected(result: DrillResult, allowed: set[str]) -> None:
    for key, count in result.answers.items():
        if key not in allowed and key.split()[0] not in NEVER:  # NEVER is reported by verify
            result.find(f"{count} answers '{key}' (expected only {', '.join(sorted(allowed))})")


def overload(cluster: Cluster, sizes: Sizes) -> DrillResult:
    """Waves of concurrent calls with a 1 s deadline at one replica: refused or late, never wrong,
    and the directory's breaker stays closed (our own queueing is not the directory failing)."""
    result = DrillResult("overload waves")
    ledger = Ledger()

    def run() -> None:
        workload = cluster.workload()
        with grpc.insecure_channel(cluster.targets[0]) as channel:
            stub = booking_service_pb2_grpc.BookingServiceStub(channel)
            for _ in range(sizes.overload_waves):
                requests = [workload.next_request() for _ in range(sizes.overload_wave_calls)]
                calls = [stub.AutoAssignTrainer.future(r, timeout=1.0) for r in requests]
                for request, call in zip(requests, calls, strict=True):
                    try:
                        response, answer = call.result(), OK
                    except grpc.RpcError as error:
                        response, answer = None, answer_of(error)
                    ledger.record(request, answer, response)
                    result.answer(answer.key)
                time.sleep(1.0)
        cluster.verify(ledger, result)

    _timed(result, run)
    _unexpected(
        result,
        {"OK", "RESOURCE_EXHAUSTED OVERLOADED", "DEADLINE_EXCEEDED -", "DEADLINE_EXCEEDED DEADLINE_EXCEEDED"},
    )
    directory_down = sum(
        1
        for r in ledger.ok_responses
        if r.purchase.waitlist_reason == common.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE
    )
    if directory_down:
        result.find(f"{directory_down} purchases stored as TRAINER_DIRECTORY_UNAVAILABLE")
    opened = cluster.log_events(0, "circuit_breaker_opened")
    if opened:
        result.find(f"the directory breaker opened {opened} times")
    result.figures["waves"] = f"{sizes.overload_waves} x {sizes.overload_wave_calls} at 1 s"
    result.figures["breaker opened"] = str(opened)
    return result


def terminate_backends(cluster: Cluster, sizes: Sizes) -> DrillResult:
    """Every 0.25 s, every connection of the service is terminated while both replicas take load."""
    result = DrillResult("backends terminated every 0.25 s")
    ledger = Ledger()
    terminated = 0

    def run() -> None:
        nonlocal terminated
        with (
            psycopg.connect(cluster.pg.libpq_url(), autocommit=True) as admin,
            cluster.load(ledger, result, sizes),
        ):
            stop_at = time.monotonic() + sizes.terminate_seconds
            while time.monotonic() < stop_at:
                row = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (cluster.database,),
                ).fetchone()
                terminated += int(row[0]) if row else 0
                time.sleep(0.25)
        cluster.verify(ledger, result)

    _timed(result, run)
    _unexpected(result, {"OK", "UNAVAILABLE DATABASE_UNAVAILABLE"})
    result.figures["backends terminated"] = str(terminated)
    return result


def restart_postgres(cluster: Cluster, sizes: Sizes) -> DrillResult:
    """PostgreSQL stopped under load and started again: health says so both ways, callers get
    DATABASE_UNAVAILABLE meanwhile, and everything heals by itself."""
    result = DrillResult("PostgreSQL stopped and restarted")
    ledger = Ledger()

    def run() -> None:
        with (
            grpc.insecure_channel(cluster.targets[0]) as channel,
            cluster.load(ledger, result, sizes),
        ):
            health = health_pb2_grpc.HealthStub(channel)
            time.sleep(2.0)
            stopped = time.monotonic()
            stop_cluster(cluster.pg.pgdata)
            down = _wait_for_health(health, lambda s: s != SERVING, timeout_seconds=10)
            result.figures["NOT_SERVING after"] = "never" if down is None else f"{down - stopped:.1f} s"
            time.sleep(max(0.0, sizes.restart_down_seconds - (time.monotonic() - stopped)))
            restarted = time.monotonic()
            start_cluster(cluster.pg.pgdata, socket_dir=cluster.pg.socket_dir)
            up = _wait_for_health(health, lambda s: s == SERVING, timeout_seconds=15)
            result.figures["SERVING again after"] = "never" if up is None else f"{up - restarted:.1f} s"
            if down is None or up is None:
                result.find("health did not follow the database down and up within 10-15 s")
            time.sleep(2.0)
        cluster.verify(ledger, result)

    _timed(result, run)
    _unexpected(result, {"OK", "UNAVAILABLE DATABASE_UNAVAILABLE"})
    result.figures["stored TRAINER_DIRECTORY_UNAVAILABLE"] = str(
        sum(
            1
            for r in ledger.ok_responses
            if r.purchase.waitlist_reason == common.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE
        )
    )
    return result


def kill_replica(cluster: Cluster, sizes: Sizes) -> DrillResult:
    """One replica SIGKILLed mid-load and started again: every OK answer is durable, every other
    answer replays to exactly one purchase."""
    result = DrillResult("kill -9 of a replica under load")
    ledger = Ledger()

    def run() -> None:
        with cluster.load(ledger, result, sizes):
            time.sleep(sizes.kill_seconds / 3)
            victim = cluster.servers[0]
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            victim.stop()  # closes its log file
            time.sleep(1.0)
            cluster.start(0)
            time.sleep(sizes.kill_seconds * 2 / 3)
        cluster.verify(ledger, result)

    _timed(result, run)
    # The dead replica refuses connections (UNAVAILABLE without a status of ours), and calls it
    # held die with it; every one of them must replay (the ledger's verification).
    _unexpected(
        result,
        {"OK", "UNAVAILABLE -", "UNAVAILABLE DATABASE_UNAVAILABLE", "DEADLINE_EXCEEDED -", "CANCELLED -"},
    )
    result.figures["acknowledged"] = str(len(ledger.ok_responses))
    result.figures["failed, then replayed"] = str(len(ledger.entries) - len(ledger.ok_responses))
    return result


def _wait_for_health(
    health: health_pb2_grpc.HealthStub, wanted: Callable[[int], bool], *, timeout_seconds: float
) -> float | None:
    """When the BookingService health status first satisfied `wanted`; None if it never did."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service=BOOKING), timeout=1).status
        except grpc.RpcError:
            status = -1
        if wanted(status):
            return time.monotonic()
        time.sleep(0.1)
    return None


DRILLS: tuple[Callable[[Cluster, Sizes], DrillResult], ...] = (
    overload,
    terminate_backends,
    restart_postgres,
    kill_replica,
)
