"""The benchmark's smoke mode end to end, and the pure pieces of the benchmark it relies on.

`python -m bench.run --smoke` starts its own embedded PostgreSQL and a real `booking-service
serve`, seeds 5 zones and 50 trainers through the RPCs and drives AutoAssignTrainer for 3 s at
4 callers from a separate process, then short phases against a jwt-mode server, against a booking
server whose trainer directory is another process, with SuggestAlternatives and under a watcher:
a few seconds that prove `make bench` still works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from booking.v1 import common_pb2 as common

from bench.cpu import postgres_cpu_during
from bench.floors import GrpcFloorResult, PgbenchResult
from bench.stats import latency_summary_ms, percentile
from bench.workload import Workload, Zone
from bench.world import build_world

REPO_ROOT = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT_SECONDS = 150

TOP_LEVEL_KEYS = {
    "timestamp", "mode", "profiled", "machine", "service", "client", "workload", "plan",
    "floors", "worlds", "timings", "ratios", "targets", "profile",
}  # fmt: skip
WORLD_KEYS = {"name", "trainers", "world", "seeding", "phases", "checks", "memory_kb", "server_exit_code"}
PHASE_KEYS = {
    "calls", "calls_per_second", "assigned", "assigned_per_second", "latency_ms", "outcomes",
    "errors", "rejections", "cpu", "callers", "seconds", "elapsed_seconds",
    "server_cpu_ms_per_call", "postgres_cpu_ms_per_call",
}  # fmt: skip
SMOKE_PHASES = {"main", "main_jwt", "main_remote_dir", "suggest_single", "watch"}


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    results_dir = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--results-dir", str(results_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    latest = json.loads((results_dir / "latest.json").read_text())
    stamped = json.loads((results_dir / f"{latest['timestamp']}.json").read_text())
    assert stamped == latest
    return latest


@pytest.mark.slow
def test_smoke_run_writes_the_expected_json(smoke_results: dict[str, Any]) -> None:
    assert not TOP_LEVEL_KEYS - smoke_results.keys()
    assert smoke_results["mode"] == "smoke"
    (world,) = smoke_results["worlds"]
    assert not WORLD_KEYS - world.keys()
    assert not PHASE_KEYS - world["phases"]["main"].keys()
    jwt = world["phases"]["main_jwt"]  # a jwt-mode server, every call with a bearer token
    assert (jwt["auth"], jwt["errors"], jwt["server_exit_code"]) == ("jwt", {}, 0)
    assert jwt["calls"] > 0
    suggest = world["phases"]["suggest_single"]
    assert suggest["calls"] > 0
    assert suggest["errors"] == {}
    assert set(suggest["outcomes"]) <= {"SUGGESTED", "NO_ALTERNATIVE"}
    assert not {"p50", "p95", "p99"} - world["phases"]["main"]["latency_ms"].keys()
    assert {t["verdict"] for t in smoke_results["targets"]} <= {"PASS", "FAIL", "SKIP"}


@pytest.mark.slow
def test_smoke_run_assigns_without_internal_errors_or_double_bookings(smoke_results: dict[str, Any]) -> None:
    (world,) = smoke_results["worlds"]
    main = world["phases"]["main"]
    assert main["outcomes"].get("ASSIGNED", 0) >= 1
    assert "INTERNAL" not in main["errors"]
    assert "UNKNOWN" not in main["errors"]
    assert world["checks"]["overlapping_pairs"] == 0
    assert world.get("error") is None


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@pytest.mark.slow
def test_smoke_run_reports_cpu_milliseconds_per_call_in_every_phase(smoke_results: dict[str, Any]) -> None:
    (world,) = smoke_results["worlds"]
    assert set(world["phases"]) == SMOKE_PHASES
    for name, phase in world["phases"].items():
        for key in ("server_cpu_ms_per_call", "postgres_cpu_ms_per_call"):
            assert _positive(phase[key]), (name, key, phase[key])
        # The same CPU seconds as the cores column, over the calls instead of the wall time.
        cores_as_ms = phase["cpu"]["server_cores"] * phase["elapsed_seconds"] * 1000 / phase["calls"]
        assert phase["server_cpu_ms_per_call"] == pytest.approx(cores_as_ms, rel=0.1, abs=0.5), name


@pytest.mark.slow
def test_smoke_run_drives_a_booking_server_whose_directory_is_another_process(
    smoke_results: dict[str, Any],
) -> None:
    (world,) = smoke_results["worlds"]
    remote = world["phases"]["main_remote_dir"]
    assert (remote["directory"], remote["errors"]) == ("remote", {})
    assert remote["outcomes"].get("ASSIGNED", 0) >= 1
    # The booking server reached the directory process on every call.
    assert "WAITLISTED/TRAINER_DIRECTORY_UNAVAILABLE" not in remote["outcomes"]
    # Both processes worked: the smoke run has the directory cache off, so every call asks the directory.
    assert _positive(remote["cpu"]["server_cores"])
    assert _positive(remote["cpu"]["directory_cores"])
    assert _positive(remote["directory_cpu_ms_per_call"])
    processes = remote["processes"]
    assert set(processes) == {"booking", "directory"}
    assert [p["exit_code"] for p in processes.values()] == [0, 0]  # both stopped, gracefully
    (rss,) = [t for t in smoke_results["targets"] if t["name"].startswith("server peak RSS")]
    for role, process in processes.items():
        assert _positive(process["memory_kb"]["VmHWM"])
        assert rss["value"] >= round(process["memory_kb"]["VmHWM"] / 1024, 1)
        assert f"main/main_remote_dir/{role}" in rss["evidence"]


def test_postgres_cpu_counts_the_backends_that_exited_during_the_measurement() -> None:
    """pgbench's backends are gone when the floor's measurement ends: their CPU must reach the
    count through the postmaster's reaped children. Stand-ins: this process as the postmaster,
    two children that burn 0.3 s of CPU each and exit."""
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"

    def clients() -> str:
        for _ in range(2):
            subprocess.run([sys.executable, "-c", burn], check=True)
        return "done"

    result, cpu_seconds = postgres_cpu_during(os.getpid(), clients)
    assert result == "done"
    assert cpu_seconds >= 0.55


def test_pgbench_and_grpc_floor_outputs_are_parsed() -> None:
    pgbench = PgbenchResult.parse(
        "number of transactions actually processed: 16129\n"
        "number of failed transactions: 0 (0.000%)\nlatency average = 14.880 ms\n"
        "initial connection time = 11.426 ms\ntps = 1075.279974 (without initial connection time)\n",
        clients=16,
        seconds=15,
    )
    assert (pgbench.tps, pgbench.latency_avg_ms, pgbench.failed) == (1075.279974, 14.88, 0)
    assert pgbench.transactions == 16129
    grpc_floor = GrpcFloorResult.parse(
        "qps=3312 p50_ms=4.51 p99_ms=9.80\n", mode="sync", concurrency=16, seconds=10
    )
    assert (grpc_floor.qps, grpc_floor.p50_ms, grpc_floor.p99_ms) == (3312.0, 4.51, 9.8)


def test_percentiles_are_nearest_rank_and_empty_is_null() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert latency_summary_ms([])["p50"] is None


def test_the_full_world_has_the_issue_shape() -> None:
    world = build_world(zones=50, trainers=2000, seed=42)
    assert world.describe() == {
        "zones": 50, "company_zones": 30, "franchise_zones": 20, "franchises": 5,
        "trainers": 2000, "courses": 10,
    }  # fmt: skip
    assert all(1 <= len(t.course_ids) <= 3 for t in world.trainers)
    # The zones do not depend on the trainer count: the scale worlds differ only in density.
    assert build_world(zones=50, trainers=500, seed=42).zones == world.zones


def test_every_generated_request_passes_the_purchase_rules() -> None:
    workload = Workload([Zone(12.97, 77.59, 10.0)], ["c1", "c2"], seed=1, validate_only=False)
    students_for = {
        common.CLASS_TYPE_ONE_ON_ONE: 1,
        common.CLASS_TYPE_ONE_ON_TWO: 2,
        common.CLASS_TYPE_ONE_ON_THREE: 3,
    }
    for _ in range(500):
        request = workload.next_request()
        if request.class_type == common.CLASS_TYPE_HYBRID:
            assert request.total_sessions == 30
        else:
            assert len(request.students) == students_for[request.class_type]
        if request.delivery_mode == common.DELIVERY_MODE_SUNDAY_ONLY:
            assert request.total_sessions % 2 == 0
        assert request.total_sessions in {10, 20, 30}
        assert "06:00" <= request.preferred_time_slot <= "20:00"


@pytest.mark.slow
def test_smoke_run_measures_watch_latency_on_a_second_replica(smoke_results: dict[str, Any]) -> None:
    (world,) = smoke_results["worlds"]
    watch = world["phases"]["watch"]["watch"]
    assert watch["error"] is None
    assert watch["events"] >= 1
    assert watch["latency_ms"]["p50"] is not None
    assert watch["latency_ms"]["p99"] >= watch["latency_ms"]["p50"]
    assert watch["replica_exit_code"] == 0
