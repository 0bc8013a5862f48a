"""`make chaos` in its short form: every drill runs against real processes and finds nothing.

`python -m chaos.run --smoke` starts its own embedded PostgreSQL and two `booking-service serve`
replicas, then runs overload waves, backend termination, a PostgreSQL restart and a kill -9
of a replica under load, each verified by its client-side ledger (chaos/ledger.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT_SECONDS = 280


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    output = tmp_path_factory.mktemp("chaos") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "chaos.run", "--smoke", "--json", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_SECONDS,
        check=False,
    )
    assert output.exists(), f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    results = {drill["name"]: drill for drill in json.loads(output.read_text())}
    assert done.returncode == (1 if any(d["findings"] for d in results.values()) else 0)
    return results


@pytest.mark.slow
def test_every_drill_ran_with_calls_and_no_findings(drills: dict[str, dict[str, Any]]) -> None:
    assert {name: drill["findings"] for name, drill in drills.items()} == {key: [] for key in drills}
    assert all(drill["calls"] > 0 for drill in drills.values())
    assert len(drills) == 4


@pytest.mark.slow
def test_the_faults_really_happened(drills: dict[str, dict[str, Any]]) -> None:
    """A drill whose fault never bit would prove nothing."""
    assert int(drills["backends terminated every 0.25 s"]["figures"]["backends terminated"]) > 0
    restart = drills["PostgreSQL stopped and restarted"]
    assert restart["figures"]["NOT_SERVING after"] != "never"
    assert restart["answers"].get("UNAVAILABLE DATABASE_UNAVAILABLE", 0) > 0
    assert int(drills["kill -9 of a replica under load"]["figures"]["failed, then replayed"]) > 0
