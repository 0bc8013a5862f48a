"""`make bench`: the booking service on a fresh embedded PostgreSQL, measured against floors.

Phases: embedded PostgreSQL (fresh temp data dir) -> floors (pgbench floor_assign at 16 and 1
client, grpc_floor) -> main world (2,000 trainers: 1 caller, 16 callers, jwt server, directory in
a process of its own, dry run, suggest, watch) -> scale worlds (500 and 5,000 trainers: 1 caller,
16 callers) -> report. Each world has its own
database and its own `booking-service serve` process. Targets print PASS/FAIL and never fail
the command; a server that cannot start or dies does (exit 1), after the report.

`python -m bench.run --smoke`: 50 trainers, 5 zones, 3 s at 4 callers, no floors or scale runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from booking_server.config import load_settings

from bench import checks, floors, profiling, remote_directory, report, service, watch_latency, workload
from bench.pg import EmbeddedPostgres
from bench.world import WorldSpec, build_world, seed_world
from tools import credentials

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO_ROOT / "bench" / "results"
DRIVER_SLACK_SECONDS = 60.0  # driver start-up, warm-up and the drain of calls in flight


@dataclass(frozen=True)
class Phase:
    name: str
    callers: int
    seconds: float
    validate_only: bool = False
    profiled: bool = False
    suggest: bool = False  # SuggestAlternatives with the same requests
    # "jwt": against a second server on the same database in BOOKING_AUTH_MODE=jwt (no TLS), every
    # call with a bearer token: the cost of verifying tokens, next to "main" in auth mode none.
    auth: str = "none"
    # Assignments against this world's server while a watcher on a second replica measures the
    # event latency from commit to arrival (bench/watch_latency.py).
    watch: bool = False
    # "remote": against a second server on the same database whose trainer directory is a third
    # process, as deployed in production (bench/remote_directory.py); "self": in the same process.
    directory: str = "self"


@dataclass(frozen=True)
class Plan:
    mode: str
    zones: int
    trainers: int
    phases: tuple[Phase, ...]
    scale_trainers: tuple[int, ...]
    scale_phases: tuple[Phase, ...]
    floors: bool
    pgbench_seconds: int
    pgbench_single_seconds: int
    grpc_floor_seconds: int
    floor_clients: int
    warmup: float
    cache_ttl: float | None
    profile: bool
    profile_mode: str
    seed: int
    results_dir: Path


def build_plan(args: argparse.Namespace) -> Plan:
    common = {
        "cache_ttl": args.directory_cache_ttl,
        "profile": args.profile,
        "profile_mode": args.profile_mode,
        "seed": args.seed,
        "results_dir": args.results_dir,
        "floor_clients": 16,
    }
    if args.smoke:
        return Plan(
            mode="smoke", zones=args.zones or 5, trainers=args.trainers or 50,
            phases=(
                Phase("main", args.callers or 4, args.seconds or 3.0, profiled=args.profile),
                Phase("main_jwt", 2, 1.0, auth="jwt"),
                Phase("main_remote_dir", 2, 1.0, directory="remote"),
                Phase("suggest_single", 1, 1.0, suggest=True),
                Phase("watch", 2, 2.0, watch=True),
            ),
            scale_trainers=(), scale_phases=(), floors=False, pgbench_seconds=0, pgbench_single_seconds=0,
            grpc_floor_seconds=0, warmup=0.5, **common,
        )  # fmt: skip
    callers = args.callers or 16
    phases = (
        # 1 caller first, on the fresh world: the latency without queueing, comparable to the
        # pgbench single-client floor measured on near-empty tables.
        Phase("single", 1, 10.0),
        Phase("main", callers, args.seconds or 30.0, profiled=args.profile),
        Phase("main_jwt", callers, 10.0, auth="jwt"),
        Phase("main_remote_dir", callers, 10.0, directory="remote"),
        Phase("dry_run", callers, 10.0, validate_only=True),
        # SuggestAlternatives against a dry run, both at 1 caller: the cost of one call each.
        Phase("dry_single", 1, 5.0, validate_only=True),
        Phase("suggest_single", 1, 5.0, suggest=True),
        # Last: it starts a second replica, whose own background work must not touch the others.
        Phase("watch", callers, 10.0, watch=True),
    )
    return Plan(
        mode="full", zones=args.zones or 50, trainers=args.trainers or 2000, phases=phases,
        scale_trainers=() if args.no_scale else (500, 5000),
        scale_phases=(Phase("single", 1, 5.0), Phase("main", callers, 10.0)),
        floors=not args.no_floors, pgbench_seconds=15, pgbench_single_seconds=5, grpc_floor_seconds=10,
        warmup=1.0, **common,
    )  # fmt: skip


class Timings:
    """Wall time of every phase, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 2)
            print(f"[bench] {name} done in {self.seconds[name]:.1f} s", flush=True)


FloorStep = tuple[str, Callable[[], "floors.PgbenchResult | floors.GrpcFloorResult"]]


def measure_floors(pg: EmbeddedPostgres, plan: Plan, timings: Timings) -> dict[str, Any]:
    """Each floor on its own: one that cannot run is reported missing, the others still count."""
    result: dict[str, Any] = {"shared_dir": str(floors.shared_dir()), "errors": {}}
    multi, single = plan.floor_clients, 1
    pgbench_steps: list[FloorStep] = [
        ("pgbench_multi", lambda: floors.run_pgbench(pg, clients=multi, seconds=plan.pgbench_seconds)),
        (
            "pgbench_single",
            lambda: floors.run_pgbench(pg, clients=single, seconds=plan.pgbench_single_seconds),
        ),
    ]
    grpc_step: FloorStep = (
        "grpc",
        lambda: floors.run_grpc_floor(seconds=plan.grpc_floor_seconds, concurrency=plan.floor_clients),
    )
    try:
        with timings.phase("floor: schema"):
            floors.prepare_floor_database(pg)
    except (floors.FloorError, OSError) as exc:
        result["errors"]["schema"] = str(exc)
        pgbench_steps = []
    for key, step in [*pgbench_steps, grpc_step]:
        try:
            with timings.phase(f"floor: {key}"):
                result[key] = asdict(step())
        except (floors.FloorError, OSError, subprocess.TimeoutExpired) as exc:
            result["errors"][key] = str(exc)
    # The floor's dirty pages must not be flushed while the service is being measured.
    pg.execute("CHECKPOINT")
    return result


def run_driver(
    target: str,
    world_file: Path,
    phase: Phase,
    *,
    seed: int,
    warmup: float,
    pids: tuple[int, int],
    token_file: Path | None = None,
    directory_pid: int = 0,
) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.driver", "--target", target, "--world", str(world_file),
        "--callers", str(phase.callers), "--seconds", str(phase.seconds), "--warmup", str(warmup),
        "--seed", str(seed), "--server-pid", str(pids[0]), "--postmaster-pid", str(pids[1]),
        "--directory-pid", str(directory_pid),
    ]  # fmt: skip
    if phase.validate_only:
        command.append("--validate-only")
    if phase.suggest:
        command.append("--suggest")
    if token_file is not None:
        command += ["--token-file", str(token_file)]
    timeout = phase.seconds + warmup + DRIVER_SLACK_SECONDS
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"driver exited {done.returncode}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(
        callers=phase.callers, seconds=phase.seconds, validate_only=phase.validate_only, warmup=warmup
    )
    return result


class WorldRun:
    """One world: database, migration, server, seeding, the phases, checks, memory, stop."""

    def __init__(
        self, pg: EmbeddedPostgres, plan: Plan, timings: Timings, *, name: str, trainers: int, stamp: str
    ) -> None:
        self.pg, self.plan, self.timings = pg, plan, timings
        self.name, self.trainers = name, trainers
        self.database = f"bench_{name}"
        self.log_path = plan.results_dir / f"{stamp}-server-{name}.log"
        self.profile_base = plan.results_dir / f"{stamp}-profile-{name}"
        self.record: dict[str, Any] = {
            "name": name,
            "trainers": trainers,
            "database": self.database,
            "phases": {},
        }
        self.profile: dict[str, Any] | None = None

    def _step(self, label: str) -> Any:
        return self.timings.phase(f"{self.name}: {label}")

    def run(self, phases: tuple[Phase, ...], work_dir: Path) -> dict[str, Any]:
        world = build_world(zones=self.plan.zones, trainers=self.trainers, seed=self.plan.seed)
        self.record["world"] = world.describe()
        world_file = work_dir / f"world-{self.name}.json"
        world.save_for_driver(world_file)
        with self._step("create + migrate"):
            self.pg.execute("CHECKPOINT")
            self.pg.create_database(self.database)
            service.migrate(self.pg.service_url(self.database), self.log_path)
        with self._step("start server"):
            server = service.start_service(
                self.pg.service_url(self.database), self.log_path, self.plan.cache_ttl
            )
        self.record["server_settings"] = server.settings
        try:
            self._seed_and_drive(server, world, world_file, phases)
        except (RuntimeError, OSError, subprocess.TimeoutExpired, grpc.RpcError) as exc:
            # Keep what was measured; the report shows the error (with the server's log tail).
            alive = server.process.poll() is None
            self.record["error"] = f"{type(exc).__name__}: {exc}" + (
                "" if alive else f"\n{service_log_tail(server)}"
            )
        finally:
            with self._step("stop server"):
                stopped = server.finish()
            self.record.update(
                memory_kb=stopped["memory_kb"],
                server_exit_code=stopped["exit_code"],
                log_summary=stopped["log_summary"],
                server_log=stopped["log"],
            )
        with self._step("SQL checks"):
            self.record["checks"] = checks.check_world(self.pg.libpq_url(self.database))
        return self.record

    def _seed_and_drive(
        self, server: service.RunningService, world: WorldSpec, world_file: Path, phases: tuple[Phase, ...]
    ) -> None:
        with self._step(f"seed {len(world.zones)} zones + {len(world.trainers)} trainers"):
            seeded = seed_world(server.target, world)
        self.record["seeding"] = {
            "calls": seeded.calls,
            "seconds": round(seeded.zones_seconds + seeded.trainers_seconds, 2),
            "calls_per_second": round(seeded.calls_per_second, 1),
        }
        for index, phase in enumerate(phases):
            # A distinct request stream per world and phase: a repeated booking id would be an
            # idempotent replay, not a new assignment.
            seed = self.plan.seed * 1000 + self.trainers % 997 * 10 + index
            if phase.auth == "jwt":
                with self._step(f"{phase.name} ({phase.callers} callers, {phase.seconds:g} s, jwt server)"):
                    result = self._drive_with_jwt(world_file, phase, seed=seed)
                self.record["phases"][phase.name] = result
                continue
            if phase.directory == "remote":
                step = f"{phase.name} ({phase.callers} callers, {phase.seconds:g} s, remote directory)"
                with self._step(step):
                    self._drive_with_remote_directory(world_file, phase, seed=seed)
                continue
            profiler = self._attach_profiler(server, phase)
            with self._step(f"{phase.name} ({phase.callers} callers, {phase.seconds:g} s)"):
                with self._watching(phase) as watched:
                    result = self._drive(server, world_file, phase, seed=seed)
                if watched:
                    result["watch"] = watched
            result["profiled"] = profiler is not None
            self.record["phases"][phase.name] = result
            if profiler is not None:
                self._collect_profile(profiler)
            server.check_alive()

    def _drive(
        self,
        server: service.RunningService,
        world_file: Path,
        phase: Phase,
        *,
        seed: int,
        token_file: Path | None = None,
        directory: service.RunningService | None = None,
    ) -> dict[str, Any]:
        """The driver against `server`, with the plan's warm-up, measuring the CPU of `server`,
        of PostgreSQL and of `directory` when the trainer directory is a process of its own."""
        return run_driver(
            server.target,
            world_file,
            phase,
            seed=seed,
            warmup=self.plan.warmup,
            pids=(server.pid, self.pg.postmaster_pid),
            token_file=token_file,
            directory_pid=directory.pid if directory is not None else 0,
        )

    def _drive_with_jwt(self, world_file: Path, phase: Phase, *, seed: int) -> dict[str, Any]:
        """A second server on this world's database in `jwt` mode (no TLS: only the token's
        cost is added), with throwaway keys (tools/credentials.py), driven with a booker token."""
        keys = world_file.parent / "credentials"
        credentials.make_all(keys)
        token_file = keys / "bench.jwt"
        token_file.write_text(
            credentials.mint_token(credentials.load_jwt_key(keys), subject="bench", roles=["booking.booker"])
        )
        jwt_env = {
            "BOOKING_AUTH_MODE": "jwt",
            "BOOKING_AUTH_JWKS_FILE": str(keys / "jwks.json"),
            "BOOKING_AUTH_ISSUER": credentials.ISSUER,
            "BOOKING_AUTH_AUDIENCE": credentials.AUDIENCE,
        }
        log_path = self.log_path.with_name(f"{self.log_path.stem}-jwt.log")
        server = service.start_service(
            self.pg.service_url(self.database), log_path, self.plan.cache_ttl, extra_env=jwt_env
        )
        try:
            result = self._drive(server, world_file, phase, seed=seed, token_file=token_file)
        finally:
            result_exit = server.stop()
        result.update(profiled=False, auth="jwt", server_exit_code=result_exit)
        return result

    def _drive_with_remote_directory(self, world_file: Path, phase: Phase, *, seed: int) -> None:
        """Two more servers on this world's database, a booking server and the directory it calls
        (bench/remote_directory.py). The phase is recorded first, so that the processes' peak
        memory reaches the RSS target even when the driver fails."""
        recorded: dict[str, Any] = {"profiled": False, "directory": "remote", "processes": {}}
        self.record["phases"][phase.name] = recorded
        log_path = self.log_path.with_name(f"{self.log_path.stem}-remote-dir.log")
        with remote_directory.booking_with_remote_directory(
            self.pg.service_url(self.database), log_path, self.plan.cache_ttl, recorded["processes"]
        ) as (booking, directory):
            result = self._drive(booking, world_file, phase, seed=seed, directory=directory)
        recorded.update(result)

    @contextmanager
    def _watching(self, phase: Phase) -> Iterator[dict[str, Any]]:
        """For a watch phase: a second replica on this world's database, and a watcher on it."""
        summary: dict[str, Any] = {}
        if not phase.watch:
            yield summary
            return
        log_path = self.log_path.with_name(self.log_path.name.replace("-server-", "-replica-"))
        replica = service.start_service(self.pg.service_url(self.database), log_path, self.plan.cache_ttl)
        try:
            watcher = watch_latency.WatchLatency(replica.target)
            watcher.start()
            yield summary
            summary.update(watcher.stop())
            replica.check_alive()
        finally:
            summary["replica_exit_code"] = replica.stop()
            if log_path.exists() and log_path.stat().st_size == 0:
                log_path.unlink()

    def _attach_profiler(self, server: service.RunningService, phase: Phase) -> profiling.Profiler | None:
        if not phase.profiled:
            return None
        # Covers the driver's start-up, warm-up and window; samples after its end are idle ones,
        # which py-spy drops.
        seconds = self.plan.warmup + phase.seconds + 2.0
        try:
            return profiling.Profiler.attach(
                server.pid, seconds, self.profile_base.with_suffix(".folded"), mode=self.plan.profile_mode
            )
        except RuntimeError as exc:
            self.profile = {"error": str(exc)}
            return None

    def _collect_profile(self, profiler: profiling.Profiler) -> None:
        try:
            profiler.finish()
        except RuntimeError as exc:
            self.profile = {"error": str(exc)}
            return
        stacks = profiling.read_folded(profiler.folded_path)
        speedscope = self.profile_base.with_suffix(".speedscope.json")
        profiling.write_speedscope(stacks, speedscope, f"booking-service {self.name} main run")
        self.profile = {
            **profiling.top_functions(stacks),
            "mode": self.plan.profile_mode,
            "what": profiling.DESCRIPTIONS[self.plan.profile_mode],
            "sampling_errors": profiling.sampling_errors(profiler.log_path),
            "folded": str(profiler.folded_path),
            "speedscope": str(speedscope),
        }


def service_log_tail(server: service.RunningService) -> str:
    lines = server.log_path.read_text(errors="replace").splitlines()[-30:]
    return "server log tail:\n" + "\n".join(lines)


def scale_summary(worlds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for world in sorted(worlds, key=lambda w: w["trainers"]):
        single, main = world["phases"].get("single") or {}, world["phases"].get("main") or {}
        rows.append(
            {
                "world": world["name"],
                "trainers": world["trainers"],
                "callers": main.get("callers"),
                "p50_1": (single.get("latency_ms") or {}).get("p50"),
                "p50_c": (main.get("latency_ms") or {}).get("p50"),
                "assigned_per_second": main.get("assigned_per_second"),
                "calls_per_second": main.get("calls_per_second"),
                "mean_eligible": main.get("mean_eligible_trainers"),
                "mean_response_bytes": main.get("mean_response_bytes"),
            }
        )
    return rows


def describe_cache_ttl(plan: Plan) -> str:
    if plan.cache_ttl is not None:
        return f"{plan.cache_ttl:g} s (--directory-cache-ttl)"
    inherited = os.environ.get("BOOKING_DIRECTORY_CACHE_TTL_SECONDS")
    if inherited:
        return f"{inherited} s (from the environment)"
    return f"service default ({load_settings({}).directory_cache_ttl_seconds:g} s)"


def base_results(plan: Plan, pg: EmbeddedPostgres, stamp: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "timestamp": stamp,
        "mode": plan.mode,
        "profiled": plan.profile,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "grpcio": grpc.__version__,
            "postgres": pg.version(),
            "postgres_settings": pg.settings(),
        },
        "service": {
            "command": " ".join([*service.service_command(), "serve"]),
            "log_level": service.LOG_LEVEL,
            "log_level_note": "warning: log volume would distort latency and CPU figures",
            "directory_cache_ttl": describe_cache_ttl(plan),
        },
        "client": "bench.driver: separate process, grpc.aio, C coroutines on one channel, "
        f"{plan.warmup:g} s warm-up per phase not counted, deadline {10:g} s per call",
        "workload": {
            "mix": workload.describe_mix(),
            "time_slots": f"{workload.TIME_SLOTS[0]}-{workload.TIME_SLOTS[-1]} every 20 min, "
            f"{workload.PEAK[0]}-{workload.PEAK[1]} x{workload.PEAK_WEIGHT:g} weight",
            "start_days_ahead": list(workload.START_DAYS_AHEAD),
            "course_popularity": workload.COURSE_POPULARITY,
            "students": "uniform inside a uniformly chosen zone",
        },
        "plan": {
            "zones": plan.zones,
            "trainers": plan.trainers,
            "phases": [asdict(p) for p in plan.phases],
            "scale_trainers": list(plan.scale_trainers),
            "scale_phases": [asdict(p) for p in plan.scale_phases],
            "seed": plan.seed,
        },
        "floors": None,
        "worlds": [],
        "timings": {},
    }


def execute(plan: Plan) -> tuple[dict[str, Any], list[report.Target]]:
    timings = Timings()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    plan.results_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with timings.phase("start embedded PostgreSQL"):
        pg = EmbeddedPostgres.start()
    try:
        results = base_results(plan, pg, stamp)
        if plan.floors:
            results["floors"] = measure_floors(pg, plan, timings)
        with tempfile.TemporaryDirectory(prefix="bkw-") as work:
            worlds = [("main", plan.trainers, plan.phases)]
            worlds += [(f"s{n}", n, plan.scale_phases) for n in plan.scale_trainers]
            profile = None
            for name, trainers, phases in worlds:
                run = WorldRun(pg, plan, timings, name=name, trainers=trainers, stamp=stamp)
                results["worlds"].append(run.run(phases, Path(work)))
                profile = profile or run.profile
            results["profile"] = profile
    finally:
        with timings.phase("stop embedded PostgreSQL"):
            pg.stop()
    timings.seconds["total"] = round(time.perf_counter() - started, 2)
    results["timings"] = timings.seconds
    scale_names = (
        (f"s{plan.scale_trainers[0]}", f"s{plan.scale_trainers[-1]}")
        if len(plan.scale_trainers) >= 2
        else None
    )
    if plan.scale_trainers:
        results["scale"] = scale_summary(results["worlds"])
    results["ratios"] = report.compute_ratios(results)
    return results, report.compute_targets(results, scale_names)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds: 50 trainers, 5 zones, 3 s at 4 callers"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the server during the main run")
    parser.add_argument(
        "--profile-mode", choices=sorted(profiling.MODES), default="gil",
        help="with --profile: gil (the GIL holder; default), cpu (running threads), wall (incl. waits)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=0.0, help="main run length (default 30, smoke 3)")
    parser.add_argument(
        "--callers", type=int, default=0, help="concurrent callers of the main run (default 16, smoke 4)"
    )
    parser.add_argument(
        "--trainers", type=int, default=0, help="trainers of the main world (default 2000, smoke 50)"
    )
    parser.add_argument("--zones", type=int, default=0, help="zones of every world (default 50, smoke 5)")
    parser.add_argument(
        "--directory-cache-ttl", type=float, default=None, metavar="SECONDS",
        help="BOOKING_DIRECTORY_CACHE_TTL_SECONDS for the server (default: the service default)",
    )  # fmt: skip
    parser.add_argument("--no-floors", action="store_true", help="skip pgbench and grpc_floor")
    parser.add_argument("--no-scale", action="store_true", help="skip the 500/5,000-trainer worlds")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    plan = build_plan(parse_args(sys.argv[1:] if argv is None else argv))
    plan = replace(plan, results_dir=plan.results_dir.resolve())
    results, targets = execute(plan)
    print(report.render(results, targets))
    path = report.write_results(results, targets, plan.results_dir, results["timestamp"])
    print(f"\nJSON: {path} (and {plan.results_dir / 'latest.json'})")
    return 1 if any(world.get("error") for world in results["worlds"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
