"""The service under test: the real `booking-service` executable, one process per world."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0
# Log volume would distort latency and CPU figures; warnings and errors still reach the log file.
LOG_LEVEL = "warning"
_SERVICE_NAMES = ("booking.v1.BookingService", "booking.v1.TrainerDirectoryService")
# For a second process on a world whose own server already runs the background jobs: each job
# runs a round as soon as it starts, and a second set would add writes and CPU to the phase.
BACKGROUND_JOBS_OFF = {
    "BOOKING_RECONCILER_INTERVAL_SECONDS": "0",
    "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS": "0",
    "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
    "BOOKING_PROMOTION_POLL_SECONDS": "0",
    "BOOKING_WATCH_CLEANUP_INTERVAL_SECONDS": "0",
}


class ServiceError(RuntimeError):
    """The service could not be migrated, started or stopped; the message carries its log."""


def service_command() -> list[str]:
    """The installed console script next to this interpreter, else the module entry point."""
    script = Path(sys.executable).with_name("booking-service")
    return [str(script)] if script.exists() else [sys.executable, "-m", "booking_server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_environment(database_url: str, listen_addr: str, cache_ttl: float | None) -> dict[str, str]:
    """The caller's environment (other BOOKING_* knobs pass through and are reported), with the
    database, address and log level the benchmark needs."""
    env = dict(os.environ)
    env.update(
        BOOKING_DATABASE_URL=database_url,
        BOOKING_LISTEN_ADDR=listen_addr,
        BOOKING_LOG_LEVEL=LOG_LEVEL,
    )
    if cache_ttl is not None:
        env["BOOKING_DIRECTORY_CACHE_TTL_SECONDS"] = f"{cache_ttl:g}"
    return env


def booking_settings(env: dict[str, str]) -> dict[str, str]:
    """The BOOKING_* variables the server got, for the report (the URL has no secrets here)."""
    return {key: value for key, value in sorted(env.items()) if key.startswith("BOOKING_")}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def migrate(database_url: str, log_path: Path) -> float:
    """`booking-service migrate` on the world's database; returns the seconds it took."""
    env = service_environment(database_url, "127.0.0.1:0", None)
    started = time.perf_counter()
    with log_path.open("ab") as log:
        result = subprocess.run([*service_command(), "migrate"], env=env, stdout=log, stderr=log, check=False)
    if result.returncode != 0:
        raise ServiceError(f"booking-service migrate exited {result.returncode}:\n{_tail(log_path)}")
    return time.perf_counter() - started


@dataclass
class RunningService:
    process: subprocess.Popen[bytes]
    target: str
    log_path: Path
    settings: dict[str, str]
    _log: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory_kb(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS of the server process, from /proc."""
        wanted = {"VmHWM", "VmRSS"}
        found: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in wanted:
                    found[key] = int(value.split()[0])
        return found

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServiceError(f"the server exited with {self.process.returncode}:\n{_tail(self.log_path)}")

    def stop(self) -> int:
        """SIGTERM and wait for the drain; returns the exit code (the contract says 0)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)

    def finish(self) -> dict[str, Any]:
        """Stop it and return what the report needs: the peak memory (read while it still runs),
        the exit code, the log lines by level, and the log's path; at level warning a healthy
        server writes nothing, so an empty log is deleted."""
        try:
            memory = self.memory_kb() if self.process.poll() is None else None
        except OSError:  # it exited in between
            memory = None
        exit_code = self.stop()
        summary = self.log_summary()
        if self.log_path.stat().st_size == 0:
            self.log_path.unlink()
        log = str(self.log_path) if self.log_path.exists() else None
        return {"memory_kb": memory, "exit_code": exit_code, "log_summary": summary, "log": log}

    def log_summary(self) -> dict[str, int]:
        """Log lines by level, and warning-or-worse lines by level and event: at level warning a
        healthy run logs nothing, so each of these is a finding (and costs time while measured)."""
        counts: Counter[str] = Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            level, event = _level_and_event(line)
            counts[level] += 1
            if level in {"warning", "error", "critical"}:
                counts[f"{level}:{event}"] += 1
        return dict(counts.most_common())


def _level_and_event(line: str) -> tuple[str, str]:
    """structlog writes JSON lines; stdlib loggers write "LEVEL name message"."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict) and "level" in record:
        return str(record["level"]).lower(), str(record.get("event", "?"))
    words = line.split(" ", 2)
    if words[0].lower() in {"debug", "info", "warning", "error", "critical"}:
        return words[0].lower(), words[1] if len(words) > 1 else "?"
    return "other", "?"


def _wait_until_serving(service: RunningService) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with grpc.insecure_channel(service.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            service.check_alive()
            try:
                statuses = [
                    stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=1).status
                    for name in _SERVICE_NAMES
                ]
            except grpc.RpcError:
                statuses = []
            if statuses and all(s == health_pb2.HealthCheckResponse.SERVING for s in statuses):
                return
            time.sleep(0.1)
    raise ServiceError(
        f"the server was not SERVING after {READY_TIMEOUT_SECONDS:.0f} s:\n{_tail(service.log_path)}"
    )


def start_service(
    database_url: str,
    log_path: Path,
    cache_ttl: float | None,
    *,
    target: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunningService:
    """Start `booking-service serve` (on `target`, else a free port) and return once both
    services report SERVING; `extra_env` sets more BOOKING_* knobs (the chaos drills)."""
    target = target or f"127.0.0.1:{free_port()}"
    env = service_environment(database_url, target, cache_ttl) | (extra_env or {})
    log = log_path.open("ab")
    process = subprocess.Popen([*service_command(), "serve"], env=env, stdout=log, stderr=log)
    service = RunningService(process, target, log_path, booking_settings(env), log)
    try:
        _wait_until_serving(service)
    except BaseException:
        service.stop()
        raise
    return service
