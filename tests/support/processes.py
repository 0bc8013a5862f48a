"""Real `booking-service` processes for the e2e tests: start, wait for health, stop, clean up.

Every server binds 127.0.0.1 on a free port, gets a scrubbed environment (no BOOKING_* variable
leaks in from the developer's shell), and writes its stdout and stderr to files next to its
data so a failing test can show what the server said. `serving()` always kills the process in
teardown, and stops an embedded PostgreSQL the process may have left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.pg import stop_cluster

BIN_DIR = Path(sys.executable).parent
BOOKING_SERVICE = BIN_DIR / "booking-service"
GRPCURL = BIN_DIR / "grpcurl"
NAMED_SERVICES = ("booking.v1.BookingService", "booking.v1.TrainerDirectoryService")
HEALTH_NAMES = ("", *NAMED_SERVICES)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# Starting on a fresh embedded database includes initdb; a slow CI machine needs the headroom.
START_TIMEOUT_SECONDS = 90.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any BOOKING_* variable, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env.update(overrides)
    return env


def run_cli(
    command: str, env: Mapping[str, str], *args: str, timeout_seconds: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """`booking-service <command> [args]` to completion (migrate, seed-demo, --help, a failing serve)."""
    return subprocess.run(
        [str(BOOKING_SERVICE), command, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        check=False,
    )


@dataclass
class ServerProcess:
    """A running (or exited) `booking-service serve`."""

    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def probe_address(self) -> str:
        """Where plaintext health checks go: the health-only port when TLS is on, else the server."""
        return self.env.get("BOOKING_HEALTH_LISTEN_ADDR") or self.address

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log entries of one event the server has written so far."""
        found = []
        for line in self.stderr().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("event") == name:
                    found.append(entry)
        return found

    def describe(self) -> str:
        """The server's output, for assertion messages."""
        return f"exit code {self.process.poll()}\n--- stderr ---\n{self.stderr()[-6000:]}"

    def wait_exit(self, timeout_seconds: float) -> int:
        return self.process.wait(timeout=timeout_seconds)

    def terminate(self, timeout_seconds: float = 15.0) -> int:
        """SIGTERM, then the exit code (the process drains and must exit by itself)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_seconds)

    def kill(self) -> None:
        """Teardown: SIGTERM for a clean exit, SIGKILL when that does not end it in 10 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def spawn_server(env_overrides: Mapping[str, str], *, log_dir: Path, name: str = "serve") -> ServerProcess:
    """Start `booking-service serve` on a free 127.0.0.1 port without waiting for it."""
    port = free_port()
    env = service_env({"BOOKING_LISTEN_ADDR": f"127.0.0.1:{port}", **env_overrides})
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"{name}-{port}.stdout.log"
    stderr_path = log_dir / f"{name}-{port}.stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen([str(BOOKING_SERVICE), "serve"], env=env, stdout=stdout, stderr=stderr)
    return ServerProcess(process, port, env, stdout_path, stderr_path)


def health_statuses(address: str, *, timeout_seconds: float = 2.0) -> dict[str, int]:
    """The health status of "" and both named services, by the generated health stub."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return {
            name: stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=timeout_seconds).status
            for name in HEALTH_NAMES
        }


def wait_for_health(
    server: ServerProcess, expected: Mapping[str, int], *, timeout_seconds: float
) -> dict[str, int]:
    """Poll until the statuses of the given names match; fail early if the process exits."""
    deadline = time.monotonic() + timeout_seconds
    last: dict[str, int] | str = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"booking-service serve exited early: {server.describe()}")
        with contextlib.suppress(grpc.RpcError):
            statuses = health_statuses(server.probe_address)
            last = statuses
            if all(statuses[name] == status for name, status in expected.items()):
                return statuses
        time.sleep(0.2)
    raise AssertionError(f"health never became {dict(expected)}; last {last}; {server.describe()}")


def wait_until_serving(server: ServerProcess, *, timeout_seconds: float = START_TIMEOUT_SECONDS) -> None:
    wait_for_health(server, dict.fromkeys(HEALTH_NAMES, SERVING), timeout_seconds=timeout_seconds)


@contextlib.contextmanager
def serving(
    env_overrides: Mapping[str, str], *, log_dir: Path, name: str = "serve"
) -> Iterator[ServerProcess]:
    """A server that is SERVING on every health name; killed in teardown whatever happened."""
    server = spawn_server(env_overrides, log_dir=log_dir, name=name)
    try:
        wait_until_serving(server)
        yield server
    finally:
        server.kill()
        data_dir = server.env.get("BOOKING_DATA_DIR")
        if "BOOKING_DATABASE_URL" not in server.env and data_dir:
            # Killed (not terminated) servers cannot stop their embedded database themselves.
            stop_postgres(embedded_pgdata(Path(data_dir)))


def embedded_pgdata(data_dir: Path) -> Path:
    """Where `booking-service serve` keeps the embedded cluster under BOOKING_DATA_DIR."""
    return data_dir.resolve() / "pg"


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """Postmasters running on this data directory (matched on their command line)."""
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc)
    return found


def stop_postgres(pgdata: Path) -> None:
    """Stop a pgserver-managed cluster if it runs (fast shutdown); a no-op otherwise."""
    if postgres_processes(pgdata):
        stop_cluster(pgdata)


def run_grpcurl(
    address: str,
    *args: str,
    data: Any = None,
    timeout_seconds: float = 30.0,
    transport: Sequence[str] = ("-plaintext",),
) -> subprocess.CompletedProcess[str]:
    """`grpcurl -plaintext [-d JSON] address args...`; the caller checks returncode.

    `transport` replaces -plaintext: TLS and credential flags (-cacert, -cert, -key, -H ...).
    """
    command = [str(GRPCURL), *transport, "-max-time", "20"]
    if data is not None:
        command += ["-d", data if isinstance(data, str) else json.dumps(data)]
    command += [address, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds, check=False)


def grpcurl_json(address: str, method: str, data: Any = None) -> Any:
    """Call one method through grpcurl and parse its JSON answer; fail on a non-zero exit."""
    result = run_grpcurl(address, method, data=data if data is not None else {})
    assert result.returncode == 0, f"grpcurl {method} failed ({result.returncode}): {result.stderr}"
    return json.loads(result.stdout)


def lines(output: str) -> Sequence[str]:
    return [line.strip() for line in output.splitlines() if line.strip()]
