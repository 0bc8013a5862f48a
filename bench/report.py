"""Targets, ratios to the floors, the summary table and the JSON file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

KB_PER_MB = 1024  # /proc reports VmHWM in kB
# The phases whose CPU per call is set against the floor's CPU per transaction.
CPU_COST_PHASES = ("main", "main_remote_dir")

Results = dict[str, Any]


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    higher_is_better: bool
    evidence: str

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "SKIP"
        ok = self.value >= self.limit if self.higher_is_better else self.value <= self.limit
        return "PASS" if ok else "FAIL"


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator / denominator, 3)


def _phase(results: Results, world: str, phase: str) -> dict[str, Any] | None:
    for entry in results["worlds"]:
        if entry["name"] == world:
            found = entry["phases"].get(phase)
            return found if isinstance(found, dict) else None
    return None


def _get(data: dict[str, Any] | None, *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


# --- ratios and targets ---------------------------------------------------------------------


def compute_ratios(results: Results) -> dict[str, float | None]:
    floors = results.get("floors") or {}
    main = _phase(results, "main", "main")
    single = _phase(results, "main", "single")
    jwt = _phase(results, "main", "main_jwt")
    return {
        # The cost of BOOKING_AUTH_MODE=jwt: the same load against a jwt-mode server, every call
        # with a bearer token (issue 13). Below 1 means slower.
        "jwt_calls_per_s_over_none": _ratio(_get(jwt, "calls_per_second"), _get(main, "calls_per_second")),
        "jwt_p50_over_none": _ratio(_get(jwt, "latency_ms", "p50"), _get(main, "latency_ms", "p50")),
        "assigned_per_s_over_pgbench_tps": _ratio(
            _get(main, "assigned_per_second"), _get(floors, "pgbench_multi", "tps")
        ),
        "p50_1_caller_over_pgbench_1_client_latency": _ratio(
            _get(single, "latency_ms", "p50"), _get(floors, "pgbench_single", "latency_avg_ms")
        ),
        "calls_per_s_over_grpc_floor_qps": _ratio(
            _get(main, "calls_per_second"), _get(floors, "grpc", "qps")
        ),
        **{
            f"{name}_postgres_cpu_per_call_over_floor": _ratio(
                _get(_phase(results, "main", name), "postgres_cpu_ms_per_call"),
                _get(floors, "pgbench_multi", "postgres_cpu_ms_per_transaction"),
            )
            for name in CPU_COST_PHASES
        },
    }


def _performance_targets(results: Results) -> list[Target]:
    floors = results.get("floors") or {}
    ratios = results["ratios"]
    main = _phase(results, "main", "main")
    single = _phase(results, "main", "single")
    dry = _phase(results, "main", "dry_run")
    dry_single = _phase(results, "main", "dry_single")
    suggest = _phase(results, "main", "suggest_single")
    watch = _get(_phase(results, "main", "watch"), "watch")
    callers = _get(main, "callers")
    floor_tps = _fmt(_get(floors, "pgbench_multi", "tps"))
    floor_latency = _fmt(_get(floors, "pgbench_single", "latency_avg_ms"))
    real_rate, dry_rate = _get(main, "calls_per_second"), _get(dry, "calls_per_second")
    return [
        Target(
            f"assignments/s at {callers} callers >= 0.5x pgbench floor_assign TPS",
            ratios["assigned_per_s_over_pgbench_tps"],
            0.5,
            True,
            f"{_fmt(_get(main, 'assigned_per_second'))}/s vs floor {floor_tps} tps",
        ),
        Target(
            "p50 at 1 caller <= 4x floor single-client latency",
            ratios["p50_1_caller_over_pgbench_1_client_latency"],
            4.0,
            False,
            f"p50 {_fmt(_get(single, 'latency_ms', 'p50'))} ms vs floor {floor_latency} ms",
        ),
        Target(
            f"p99 at {callers} callers <= 150 ms",
            _get(main, "latency_ms", "p99"),
            150.0,
            False,
            f"p99 {_fmt(_get(main, 'latency_ms', 'p99'))} ms",
        ),
        Target(
            "SuggestAlternatives p50 <= 5x a dry run's p50 (1 caller, default window)",
            _ratio(_get(suggest, "latency_ms", "p50"), _get(dry_single, "latency_ms", "p50")),
            5.0,
            False,
            f"suggest {_fmt(_get(suggest, 'latency_ms', 'p50'))} ms"
            f" vs dry run {_fmt(_get(dry_single, 'latency_ms', 'p50'))} ms",
        ),
        Target(
            "dry-run throughput >= 3x real throughput (calls/s, same callers)",
            _ratio(dry_rate, real_rate),
            3.0,
            True,
            f"dry {_fmt(dry_rate)} calls/s vs real {_fmt(real_rate)} calls/s",
        ),
        Target(
            "watch event p99, commit to a watcher on the other replica, under assignment load <= 1000 ms",
            _get(watch, "latency_ms", "p99"),
            1000.0,
            False,
            f"p50 {_fmt(_get(watch, 'latency_ms', 'p50'))} ms,"
            f" p99 {_fmt(_get(watch, 'latency_ms', 'p99'))} ms over {_get(watch, 'events')} events",
        ),
    ]


def _scale_targets(results: Results, small: str, large: str) -> list[Target]:
    targets = []
    for phase, label in (("single", "1 caller"), ("main", "16 callers")):
        p_small = _get(_phase(results, small, phase), "latency_ms", "p50")
        p_large = _get(_phase(results, large, phase), "latency_ms", "p50")
        targets.append(
            Target(
                f"p50 with {large[1:]} trainers <= 1.5x p50 with {small[1:]} ({label})",
                _ratio(p_large, p_small),
                1.5,
                False,
                f"p50 {_fmt(p_large)} ms vs {_fmt(p_small)} ms",
            )
        )
    return targets


def _error_total(results: Results, codes: Iterable[str]) -> tuple[int, list[str]]:
    total, where = 0, []
    for world in results["worlds"]:
        for name, phase in world["phases"].items():
            for code in codes:
                count = int((phase.get("errors") or {}).get(code, 0))
                if count:
                    total += count
                    where.append(f"{world['name']}/{name}: {count} {code}")
    return total, where


def _peak_rss_kb(results: Results) -> list[tuple[str, int]]:
    """VmHWM of every server process measured: each world's, and those a phase started itself."""
    peaks = []
    for world in results["worlds"]:
        if world.get("memory_kb"):
            peaks.append((world["name"], world["memory_kb"]["VmHWM"]))
        for name, phase in world["phases"].items():
            for role, process in (phase.get("processes") or {}).items():
                if process.get("memory_kb"):
                    peaks.append((f"{world['name']}/{name}/{role}", process["memory_kb"]["VmHWM"]))
    return peaks


def _integrity_targets(results: Results) -> list[Target]:
    checked = [w for w in results["worlds"] if w.get("checks")]
    overlaps = sum(w["checks"]["overlapping_pairs"] for w in checked)
    bad, where = _error_total(results, ("INTERNAL", "UNKNOWN"))
    peaks = _peak_rss_kb(results)
    worst = max(kb for _, kb in peaks) if peaks else None
    return [
        Target(
            "zero overlapping booked intervals",
            float(overlaps) if checked else None,
            0.0,
            False,
            f"{overlaps} overlapping pairs in {len(checked)} world(s)",
        ),
        Target(
            "zero INTERNAL/UNKNOWN errors", float(bad), 0.0, False, "; ".join(where) or "none in any phase"
        ),
        Target(
            "server peak RSS <= 300 MB (max over all server processes)",
            round(worst / KB_PER_MB, 1) if worst is not None else None,
            300.0,
            False,
            ", ".join(f"{name} {kb / KB_PER_MB:.0f} MB" for name, kb in peaks) or "not measured",
        ),
    ]


def compute_targets(results: Results, scale_names: tuple[str, str] | None) -> list[Target]:
    targets = _performance_targets(results)
    if scale_names is not None:
        targets += _scale_targets(results, *scale_names)
    return targets + _integrity_targets(results)


# --- the printed summary --------------------------------------------------------------------

_OUTCOME_COLUMNS = (
    ("ASSIGNED", "assigned"),
    ("WAITLISTED/NO_ELIGIBLE_TRAINER", "wl:none"),
    ("WAITLISTED/TRAINER_DIRECTORY_UNAVAILABLE", "wl:dir"),
    ("SERVICE_NOT_AVAILABLE", "sna"),
    ("INVALID_PURCHASE", "invalid"),
)
_RUN_HEADER = [
    "world", "phase", "C", "secs", "calls/s", "assign/s", "p50ms", "p95ms", "p99ms",
    *(short for _, short in _OUTCOME_COLUMNS), "confl", "raced", "errors", "cpu ms/call srv/pg",
    "cores srv/pg/cli/other", "busy%",
]  # fmt: skip


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded)

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _run_row(world: dict[str, Any], name: str, phase: dict[str, Any]) -> list[str]:
    lat = phase.get("latency_ms") or {}
    outcomes = phase.get("outcomes") or {}
    cpu = phase.get("cpu") or {}
    errors = phase.get("errors") or {}
    cores = "/".join(
        [
            _with_directory(cpu, "server_cores", "directory_cores", "{:g}"),
            *(str(cpu.get(k, "")) for k in ("postgres_cores", "client_cores", "other_cores")),
        ]
    )
    ms_per_call = "/".join(
        [
            _with_directory(phase, "server_cpu_ms_per_call", "directory_cpu_ms_per_call", "{:.1f}"),
            _fmt(phase.get("postgres_cpu_ms_per_call"), 1),
        ]
    )
    return [
        f"{world['trainers']:,} {world['name']}",
        name + (" (validate_only)" if phase.get("validate_only") else ""),
        str(phase.get("callers", "")),
        _fmt(phase.get("elapsed_seconds"), 1),
        _fmt(phase.get("calls_per_second"), 1),
        _fmt(phase.get("assigned_per_second"), 1),
        _fmt(lat.get("p50")),
        _fmt(lat.get("p95")),
        _fmt(lat.get("p99")),
        *(str(outcomes.get(key, 0)) for key, _ in _OUTCOME_COLUMNS),
        str(phase.get("requests_with_schedule_conflict", "")),
        str(phase.get("requests_with_slot_taken_concurrently", "")),
        ",".join(f"{k}:{v}" for k, v in errors.items()) or "0",
        ms_per_call,
        cores,
        str(cpu.get("machine_busy_pct", "")),
    ]


def _with_directory(values: dict[str, Any], server: str, directory: str, form: str) -> str:
    """The server's figure, "booking+directory" when the directory ran in a process of its own."""
    cells = [values.get(key) for key in (server, directory)]
    return "+".join(form.format(v) for v in cells if v is not None) or "n/a"


def _header_lines(results: Results) -> list[str]:
    machine, svc = results["machine"], results["service"]
    pg_settings = ", ".join(f"{k}={v}" for k, v in machine["postgres_settings"].items())
    profiled = (
        ", PROFILED with py-spy (figures of the profiled phase are disturbed)" if results["profiled"] else ""
    )
    return [
        "",
        f"=== booking-service benchmark {results['timestamp']} ({results['mode']}{profiled}) ===",
        f"machine: {machine['cpus']} CPUs, Python {machine['python']}, grpcio {machine['grpcio']}, "
        f"PostgreSQL {machine['postgres']} (embedded, fresh data dir; {pg_settings})",
        f"service: {svc['command']}; BOOKING_LOG_LEVEL={svc['log_level']} "
        "(log volume would distort the figures); "
        f"directory cache TTL: {svc['directory_cache_ttl']}",
        f"client: {results['client']}",
    ]


def _floor_lines(floors: dict[str, Any] | None) -> list[str]:
    if not floors:
        return []
    lines = ["", "Floors (same run, same machine, same PostgreSQL server):"]
    for key in ("pgbench_multi", "pgbench_single"):
        f = floors.get(key)
        if f:
            lines.append(
                f"  pgbench floor_assign -c {f['clients']:<2} -T {f['seconds']:<3} {f['tps']:9,.1f} tps  "
                f"latency avg {f['latency_avg_ms']:.3f} ms  failed {f['failed']}  "
                f"PostgreSQL CPU {_fmt(f.get('postgres_cpu_ms_per_transaction'))} ms/transaction"
            )
    g = floors.get("grpc")
    if g:
        lines.append(
            f"  grpc_floor {g['mode']} {g['seconds']:g} s x{g['concurrency']:<9} {g['qps']:9,.0f} qps  "
            f"p50 {g['p50_ms']:.2f} ms  p99 {g['p99_ms']:.2f} ms"
        )
    lines += [f"  {key}: NOT MEASURED: {error}" for key, error in (floors.get("errors") or {}).items()]
    return lines


OTHER_LOAD_WARNING_CORES = 0.25


def _disturbance_lines(results: Results) -> list[str]:
    """Phases during which processes outside the benchmark used the CPU."""
    lines = []
    for world in results["worlds"]:
        for name, phase in world["phases"].items():
            other = (phase.get("cpu") or {}).get("other_cores", 0.0)
            if other >= OTHER_LOAD_WARNING_CORES:
                lines.append(
                    f"  WARNING: {other:.2f} cores busy outside server/postgres/client during "
                    f"{world['name']}/{name} (other jobs on this machine, kernel I/O threads, py-spy): "
                    "its figures may be disturbed"
                )
    return lines


def _world_line(world: dict[str, Any]) -> str:
    checks = world.get("checks") or {}
    seed = world.get("seeding") or {}
    peak_mb = (world.get("memory_kb") or {}).get("VmHWM", 0) / KB_PER_MB
    return (
        f"  {world['name']:<6} {world['trainers']:>5,} trainers: seeded {seed.get('calls', 0):,} RPCs in "
        f"{seed.get('seconds', 0):.1f} s ({seed.get('calls_per_second', 0):,.0f}/s); "
        f"overlapping pairs {checks.get('overlapping_pairs', 'n/a')}; "
        f"ASSIGNED stored {checks.get('assigned_stored', 'n/a')}, "
        f"booked slots {checks.get('booked_slots', 'n/a')} "
        f"(expected {checks.get('booked_slots_expected', 'n/a')}); "
        f"peak RSS {peak_mb:.0f} MB; exit {world.get('server_exit_code', 'n/a')}"
    )


def _world_lines(results: Results) -> list[str]:
    lines = ["", "Worlds (checked by SQL after their runs):"]
    for world in results["worlds"]:
        lines.append(_world_line(world))
        lines.append(f"         server log lines: {world.get('log_summary') or 'none'}")
        rejections = (world["phases"].get("main") or {}).get("rejections") or {}
        if rejections:
            lines.append(
                "         rejections (main): " + ", ".join(f"{k} {v:,}" for k, v in rejections.items())
            )
        if world.get("error"):
            lines.append(f"    ERROR: {world['error']}")
    return lines


def _scale_lines(results: Results) -> list[str]:
    scale = results.get("scale")
    if not scale:
        return []
    lines = ["", "Scale (one fresh world per trainer count; same zones and request mix):"]
    for row in scale:
        lines.append(
            f"  {row['trainers']:>5,} trainers ({row['world']}): p50 1 caller {_fmt(row['p50_1'])} ms, "
            f"p50 {row['callers']} callers {_fmt(row['p50_c'])} ms, "
            f"assign/s {_fmt(row['assigned_per_second'], 1)}, "
            f"calls/s {_fmt(row['calls_per_second'], 1)}, mean eligible {_fmt(row['mean_eligible'], 1)}, "
            f"mean response {row['mean_response_bytes'] or 0:,} B"
        )
    return lines


def _cpu_cost_lines(results: Results) -> list[str]:
    """CPU milliseconds per call of the server and of PostgreSQL, next to the floor's."""
    floor = _get(results.get("floors"), "pgbench_multi", "postgres_cpu_ms_per_transaction")
    lines = [
        "",
        "CPU per assignment (CPU ms used in the phase / AutoAssignTrainer calls completed, assigned or"
        " waitlisted; PostgreSQL: the postmaster and all its backends; floor: pgbench floor_assign,"
        " 16 clients):",
    ]
    for name in CPU_COST_PHASES:
        phase = _phase(results, "main", name)
        server, directory, postgres = (
            _get(phase, f"{who}_cpu_ms_per_call") for who in ("server", "directory", "postgres")
        )
        if server is None or postgres is None:
            continue
        split = "" if directory is None else f" (booking {server:.2f} + directory {directory:.2f})"
        ratio = results["ratios"].get(f"{name}_postgres_cpu_per_call_over_floor")
        versus = (
            "not measured"
            if floor is None
            else f"PostgreSQL {floor:.2f} ms per transaction ({postgres:.2f}/{floor:.2f} = {_fmt(ratio, 1)}×)"
        )
        total = server + (directory or 0.0)
        lines.append(
            f"  CPU per assignment ({name}, {_get(phase, 'callers')} callers): server {total:.2f} ms{split},"
            f" PostgreSQL {postgres:.2f} ms; floor_assign: {versus}"
        )
    return lines


def _ratio_and_target_lines(results: Results, targets: list[Target]) -> list[str]:
    ratios = results["ratios"]
    lines = [
        "",
        "Ratios to the floors:",
        "  assignments/s / pgbench TPS (16 clients)     "
        + _fmt(ratios["assigned_per_s_over_pgbench_tps"], 3),
        "  p50 at 1 caller / pgbench 1-client latency   "
        + _fmt(ratios["p50_1_caller_over_pgbench_1_client_latency"], 3),
        "  calls/s / gRPC floor QPS                     "
        + _fmt(ratios["calls_per_s_over_grpc_floor_qps"], 3),
        "",
        "The cost of BOOKING_AUTH_MODE=jwt (phase main_jwt vs main; the same callers in a full run):",
        "  calls/s in jwt mode / in mode none           " + _fmt(ratios.get("jwt_calls_per_s_over_none"), 3),
        "  p50 in jwt mode / in mode none               " + _fmt(ratios.get("jwt_p50_over_none"), 3),
        "",
        "Targets:",
    ]
    for t in targets:
        lines.append(f"  {t.verdict:<4}  {t.name}: {_fmt(t.value, 3)} (limit {t.limit:g}; {t.evidence})")
    return lines


def _profile_lines(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    if profile.get("error"):
        return ["", f"Server profile: NOT TAKEN: {profile['error']}"]
    unreadable = profile.get("sampling_errors")
    head = f"py-spy, {profile['samples']:,} samples ({unreadable} unreadable), {profile['what']}"
    lines = ["", f"Server profile ({head}), top by self time:"]
    lines += [f"  {r['pct']:5.1f}%  {r['function']}" for r in profile["by_self"]]
    lines += ["  top by total time (self + callees):"]
    lines += [f"  {r['pct']:5.1f}%  {r['function']}" for r in profile["by_total"]]
    lines.append(f"  files: {profile['speedscope']} (open in speedscope.app), {profile['folded']}")
    return lines


def render(results: Results, targets: list[Target]) -> str:
    runs = [_run_row(w, name, p) for w in results["worlds"] for name, p in w["phases"].items()]
    timings = ", ".join(f"{k} {v:.1f}" for k, v in results["timings"].items())
    lines = [
        *_header_lines(results),
        *_floor_lines(results.get("floors")),
        "",
        "Runs (latency: client-observed wall time per AutoAssignTrainer call; cpu ms/call: CPU milliseconds"
        " per call completed; cores: mean busy cores; srv a+b: booking process + directory process):",
        *_table(_RUN_HEADER, runs),
        *_disturbance_lines(results),
        *_world_lines(results),
        *_scale_lines(results),
        *_cpu_cost_lines(results),
        *_ratio_and_target_lines(results, targets),
        "",
        "Phase timings (s): " + timings,
        *_profile_lines(results.get("profile")),
    ]
    return "\n".join(lines)


def write_results(results: Results, targets: list[Target], directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = {**results, "targets": [{**asdict(t), "verdict": t.verdict} for t in targets]}
    text = json.dumps(document, indent=2, default=str)
    path = directory / f"{stamp}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
