"""CPU time of the processes that share the machine during a measurement (Linux /proc).

On a 2-core machine the service, PostgreSQL and the load generator compete for the same cores;
recording who used how much shows whether a figure is a service limit or a machine limit, and
CPU milliseconds per call say what one call costs each process, next to the floor's cost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

_TICKS = os.sysconf("SC_CLK_TCK")
MS_PER_SECOND = 1000.0
# After a client disconnects, its backend exits and the postmaster reaps it a moment later.
REAP_WAIT_SECONDS = 2.0
REAP_POLL_SECONDS = 0.05

T = TypeVar("T")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the ")" of comm: state is field 0, ppid 1, utime 11, stime 12,
    cutime 13, cstime 14 (the last two: children that exited and were waited for)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), 0 when it is gone."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / _TICKS


def child_pids(pid: int) -> set[int]:
    """The live children of a process."""
    children = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields is not None and int(fields[1]) == pid:
                children.add(int(name))
    return children


def postgres_cpu_seconds(postmaster_pid: int) -> float:
    """The postmaster, its live children (backends, walwriter, checkpointer...) and the children
    it has reaped: the backends of clients that came and went (pgbench, pool overflow) count too."""
    if postmaster_pid <= 0:
        return 0.0
    live = sum(process_cpu_seconds(pid) for pid in child_pids(postmaster_pid))
    fields = _stat_fields(postmaster_pid)
    if fields is None:
        return live
    own_and_reaped = sum(int(fields[index]) for index in (11, 12, 13, 14)) / _TICKS
    return own_and_reaped + live


def postgres_cpu_during(postmaster_pid: int, work: Callable[[], T]) -> tuple[T, float]:
    """Run `work` (a client of this PostgreSQL) and return its result with the CPU seconds
    PostgreSQL used meanwhile. The backends `work` started are waited for until reaped (at most
    REAP_WAIT_SECONDS), so that their whole CPU time is in the postmaster's count."""
    before_children = child_pids(postmaster_pid)
    before = postgres_cpu_seconds(postmaster_pid)
    result = work()
    deadline = time.monotonic() + REAP_WAIT_SECONDS
    while child_pids(postmaster_pid) - before_children and time.monotonic() < deadline:
        time.sleep(REAP_POLL_SECONDS)
    return result, postgres_cpu_seconds(postmaster_pid) - before


def ms_per_unit(cpu_seconds: float, units: int) -> float | None:
    """CPU milliseconds per call (or per transaction); None when nothing completed."""
    return round(cpu_seconds * MS_PER_SECOND / units, 2) if units > 0 else None


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, summed over cores, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # steal included, guest counted in user already
    return (total - idle) / _TICKS, total / _TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    server: float
    postgres: float
    # A trainer directory served by a process of its own (phase main_remote_dir), else None.
    directory: float | None
    machine_busy: float
    machine_total: float

    @classmethod
    def take(cls, server_pid: int, postmaster_pid: int, directory_pid: int = 0) -> CpuSnapshot:
        busy, total = machine_busy_seconds()
        directory = process_cpu_seconds(directory_pid) if directory_pid > 0 else None
        return cls(
            process_cpu_seconds(server_pid), postgres_cpu_seconds(postmaster_pid), directory, busy, total
        )

    def _seconds_since(self, earlier: CpuSnapshot) -> dict[str, float]:
        """CPU seconds per process over the interval, keyed by the process's name in the JSON."""
        used = {"server": self.server - earlier.server, "postgres": self.postgres - earlier.postgres}
        if self.directory is not None and earlier.directory is not None:
            used["directory"] = self.directory - earlier.directory
        return used

    def cores_used_since(self, earlier: CpuSnapshot, wall_seconds: float) -> dict[str, float]:
        """Average cores busy over the interval (1.0 = one core fully busy)."""
        wall = max(wall_seconds, 1e-9)
        machine_total = max(self.machine_total - earlier.machine_total, 1e-9)
        used = self._seconds_since(earlier)
        return {
            **{f"{name}_cores": round(seconds / wall, 2) for name, seconds in used.items()},
            "machine_busy_cores": round((self.machine_busy - earlier.machine_busy) / wall, 2),
            "machine_busy_pct": round(100.0 * (self.machine_busy - earlier.machine_busy) / machine_total, 1),
        }

    def ms_per_call_since(self, earlier: CpuSnapshot, calls: int) -> dict[str, float | None]:
        """CPU milliseconds each process spent per call completed over the interval."""
        return {
            f"{name}_cpu_ms_per_call": ms_per_unit(seconds, calls)
            for name, seconds in self._seconds_since(earlier).items()
        }
