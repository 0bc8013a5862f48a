"""PostgreSQL time per statement of AutoAssignTrainer at 1 caller (README Performance).

`python -m bench.statement_times [--seconds 6] [--without-watch-triggers] [--without-foreign-keys]`:
a fresh embedded PostgreSQL and 2,000-trainer world, a warm-up, then `log_min_duration_statement=0`
while one caller assigns; prints the statements by total time, per assignment. Durations are
wall time inside PostgreSQL (parse, bind and execute summed), so the commit includes its WAL flush.
The two switches measure what a change would save, on a throwaway database: never in production.
"""

from __future__ import annotations

import argparse
import collections
import re
import tempfile
from pathlib import Path

import psycopg

from bench import service
from bench.pg import EmbeddedPostgres
from bench.run import Phase, run_driver
from bench.world import build_world, seed_world

_LOGGED = re.compile(
    r"duration: ([0-9.]+) ms\s+(?:statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*?)(?=\n\S|\Z)", re.S
)
_HOT_TABLES = ("trainer_slots", "purchase_sessions", "tutoring_sessions")


def _alter(url: str, *, watch_triggers: bool, foreign_keys: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if not watch_triggers:
            for table in ("trainer_slots", "purchases"):
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        if not foreign_keys:
            found = conn.execute(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
                [list(_HOT_TABLES)],
            ).fetchall()
            for table, name in found:
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--without-watch-triggers", action="store_true")
    parser.add_argument("--without-foreign-keys", action="store_true")
    args = parser.parse_args()
    pg = EmbeddedPostgres.start()
    work = Path(tempfile.mkdtemp(prefix="statement-times-"))
    try:
        database = "statements"
        pg.create_database(database)
        log_path = work / "server.log"
        service.migrate(pg.service_url(database), log_path)
        server = service.start_service(pg.service_url(database), log_path, None)
        try:
            world = build_world(zones=50, trainers=2000, seed=42)
            world_file = work / "world.json"
            world.save_for_driver(world_file)
            seed_world(server.target, world)
            pids = (server.pid, pg.postmaster_pid)
            run_driver(server.target, world_file, Phase("warm-up", 1, 3.0), seed=1, warmup=0.5, pids=pids)
            _alter(
                pg.libpq_url(database),
                watch_triggers=not args.without_watch_triggers,
                foreign_keys=not args.without_foreign_keys,
            )
            pg.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
            pg.execute("SELECT pg_reload_conf()")
            log_file = pg.pgdata / "log"
            start = log_file.stat().st_size
            result = run_driver(
                server.target, world_file, Phase("timed", 1, args.seconds), seed=2, warmup=0.0, pids=pids
            )
            pg.execute("ALTER SYSTEM RESET log_min_duration_statement")
            pg.execute("SELECT pg_reload_conf()")
            logged = log_file.read_bytes()[start:].decode(errors="replace")
        finally:
            server.stop()
    finally:
        pg.stop()
    totals: collections.Counter[str] = collections.Counter()
    for match in _LOGGED.finditer(logged):
        totals[re.sub(r"\s+", " ", match.group(2)).strip()[:110]] += float(match.group(1))
    calls = max(int(result["calls"]), 1)
    print(f"{calls} assignments in {result['elapsed_seconds']} s, p50 {result['latency_ms']['p50']} ms")
    print(f"PostgreSQL time per assignment: {sum(totals.values()) / calls:.2f} ms")
    for statement, total in totals.most_common(16):
        print(f"  {total / calls:6.2f} ms  {statement}")


if __name__ == "__main__":
    main()
