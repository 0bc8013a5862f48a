"""`make chaos`: the fault drills against real processes, with a table of what they found.

    python -m chaos.run            # about 5 minutes
    python -m chaos.run --smoke    # under a minute (tests/e2e/test_chaos_smoke.py runs it)

One embedded PostgreSQL (its own temporary data directory), a seeded world, two replicas of
`booking-service serve`; then each drill of chaos/drills.py in turn. Exit code 1 when any drill
has a finding. Nothing here needs Docker or the network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench import service
from bench.pg import EmbeddedPostgres
from bench.world import build_world, seed_world
from chaos.drills import DRILLS, FULL, SMOKE, Cluster
from chaos.hostile import QUIET_ENVIRONMENT, hostile_input_drill
from chaos.report import DrillResult, table

DATABASE = "chaos"
# The hostile drill fingerprints its database after every call: nothing else may write there.
HOSTILE_DATABASE = "chaos_hostile"
HOSTILE_EXAMPLES_PER_RPC = 100


def run(*, smoke: bool, seed: int, work_dir: Path) -> list[DrillResult]:
    sizes = SMOKE if smoke else FULL
    pg = EmbeddedPostgres.start()
    cluster: Cluster | None = None
    try:
        pg.create_database(DATABASE)
        service.migrate(pg.service_url(DATABASE), work_dir / "migrate.log")
        world = build_world(zones=4 if smoke else 8, trainers=60 if smoke else 300, seed=seed)
        world_file = work_dir / "world.json"
        world.save_for_driver(world_file)
        targets = (f"127.0.0.1:{service.free_port()}", f"127.0.0.1:{service.free_port()}")
        cluster = Cluster(pg, DATABASE, work_dir, world_file, targets)
        cluster.start(0)
        cluster.start(1)
        seed_world(targets[0], world)
        results = []
        for drill in DRILLS:
            print(f"chaos: {drill.__name__} ...", file=sys.stderr, flush=True)
            results.append(drill(cluster, sizes))
        if not smoke:  # its smoke size runs in tests/e2e/test_chaos_hostile.py
            print("chaos: hostile_input_drill ...", file=sys.stderr, flush=True)
            results.append(_hostile(pg, seed, work_dir))
        return results
    finally:
        if cluster is not None:
            for server in cluster.servers:
                server.stop()
        pg.stop()


def _hostile(pg: EmbeddedPostgres, seed: int, work_dir: Path) -> DrillResult:
    pg.create_database(HOSTILE_DATABASE)
    log_path = work_dir / "hostile-server.log"
    service.migrate(pg.service_url(HOSTILE_DATABASE), log_path)
    server = service.start_service(
        pg.service_url(HOSTILE_DATABASE), log_path, None, extra_env=QUIET_ENVIRONMENT
    )
    try:
        return hostile_input_drill(
            server.target,
            pg.libpq_url(HOSTILE_DATABASE),
            examples_per_rpc=HOSTILE_EXAMPLES_PER_RPC,
            seed=seed,
        )
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the short version run by `make test`")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-") as work:
        results = run(smoke=args.smoke, seed=args.seed, work_dir=Path(work))
    findings = sum(len(r.findings) for r in results)
    print(table(results))
    print(f"\n{len(results)} drills in {time.monotonic() - started:.0f} s, {findings} findings")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2, default=str))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
