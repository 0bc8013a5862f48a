"""CPU time of the processes that share the machine during a measurement (Linux /proc).

On a 2-core machine the service, PostgreSQL and the load generator compete for the same cores;
recording who used how much shows whether a figure is a service limit or a machine limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the ")" of comm: state is field 0, utime field 11, stime field 12.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _parent_pid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def postgres_cpu_seconds(postmaster_pid: int) -> float:
    """The postmaster and its live children (backends, walwriter, checkpointer...). Backends that
    exit in between are missed; the service's pooled connections live for the whole run."""
    if postmaster_pid <= 0:
        return 0.0
    children = [
        int(name)
        for name in os.listdir("/proc")
        if name.isdigit() and _parent_pid(int(name)) == postmaster_pid
    ]
    return process_cpu_seconds(postmaster_pid) + sum(process_cpu_seconds(pid) for pid in children)


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
    machine_busy: float
    machine_total: float

    @classmethod
    def take(cls, server_pid: int, postmaster_pid: int) -> CpuSnapshot:
        busy, total = machine_busy_seconds()
        return cls(process_cpu_seconds(server_pid), postgres_cpu_seconds(postmaster_pid), busy, total)

    def cores_used_since(self, earlier: CpuSnapshot, wall_seconds: float) -> dict[str, float]:
        """Average cores busy over the interval (1.0 = one core fully busy)."""
        wall = max(wall_seconds, 1e-9)
        machine_total = max(self.machine_total - earlier.machine_total, 1e-9)
        return {
            "server_cores": round((self.server - earlier.server) / wall, 2),
            "postgres_cores": round((self.postgres - earlier.postgres) / wall, 2),
            "machine_busy_cores": round((self.machine_busy - earlier.machine_busy) / wall, 2),
            "machine_busy_pct": round(100.0 * (self.machine_busy - earlier.machine_busy) / machine_total, 1),
        }
