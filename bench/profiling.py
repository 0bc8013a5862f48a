"""py-spy on the server during the main run: a folded-stack file, a speedscope file and the
top functions by self time.

py-spy samples from outside the process (--nonblocking: it does not pause the server, so the
figures of a profiled run stay close to an unprofiled one; the report still marks them).
Modes:
- gil (default): only the thread holding the GIL. The server tops out near one busy core, i.e.
  it is GIL-bound, and then this is the time that serialises every request. (In cpu mode,
  threads waking up to re-take the GIL inflate psycopg's Connection.wait: misleading here.)
- cpu: threads that are running; waits on sockets, locks and PostgreSQL are left out.
- wall: every thread, waiting or not (--idle): where a request's latency goes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE_RATE = 100
MODES: dict[str, tuple[str, ...]] = {"cpu": (), "gil": ("--gil",), "wall": ("--idle",)}
DESCRIPTIONS = {
    "cpu": "on-CPU samples of every thread",
    "gil": "samples of the GIL-holding thread only",
    "wall": "all samples incl. waiting threads",
}


def py_spy_path() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass
class Profiler:
    process: subprocess.Popen[bytes]
    folded_path: Path
    log_path: Path

    @classmethod
    def attach(cls, pid: int, seconds: float, folded_path: Path, *, mode: str) -> Profiler:
        executable = py_spy_path()
        if executable is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        command = [
            executable, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
            "--rate", str(SAMPLE_RATE), "--format", "raw", "--function", "--nonblocking",
            "--output", str(folded_path),
            *MODES[mode],
        ]  # fmt: skip
        log_path = folded_path.with_suffix(".log")
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=log)
        return cls(process, folded_path, log_path)

    def finish(self, timeout: float = 60.0) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait()
        if not self.folded_path.exists():
            raise RuntimeError(
                f"py-spy wrote no profile:\n{self.log_path.read_text(errors='replace')[-1500:]}"
            )


def sampling_errors(log_path: Path) -> int | None:
    """py-spy's count of samples it could not read (--nonblocking reads a moving target)."""
    match = re.search(r"Errors: (\d+)", log_path.read_text(errors="replace"))
    return int(match.group(1)) if match else None


def read_folded(path: Path) -> list[tuple[list[str], int]]:
    """Brendan Gregg's collapsed stacks: "root;...;leaf COUNT" per line."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def top_functions(stacks: list[tuple[list[str], int]], limit: int = 15) -> dict[str, Any]:
    """Self time (the leaf frame) and total time (anywhere on the stack, counted once per sample)."""
    total = sum(count for _, count in stacks)
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def rows(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "pct": round(100.0 * n / max(total, 1), 1)}
            for name, n in counter.most_common(limit)
        ]

    return {"samples": total, "by_self": rows(self_time), "by_total": rows(inclusive)}


def write_speedscope(stacks: list[tuple[list[str], int]], path: Path, name: str) -> None:
    """The same samples as a speedscope file (open at https://www.speedscope.app)."""
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[int] = []
    for frames, count in stacks:
        samples.append([index.setdefault(frame, len(index)) for frame in frames])
        weights.append(count)
    document = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": frame} for frame in index]},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "bench.profiling",
    }
    path.write_text(json.dumps(document))
