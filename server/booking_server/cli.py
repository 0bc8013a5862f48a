"""`booking-service serve | migrate | seed-demo`."""

from __future__ import annotations

import argparse
import sys

import structlog

from booking_server.app import SchemaNotMigratedError, build_application, open_database
from booking_server.config import ConfigError, load_settings, require_safe_to_serve
from booking_server.db.migrate import upgrade_to_head
from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.logging_setup import configure_logging
from booking_server.services.seed_demo import seed_demo

log = structlog.get_logger("booking_server.cli")


def _serve() -> int:
    settings = load_settings()
    require_safe_to_serve(settings)
    try:
        app = build_application(settings)
    except SchemaNotMigratedError as exc:
        print(f"booking-service: {exc}", file=sys.stderr)  # noqa: T201 - the one message a user must see
        return 2
    app.serve_until_signalled()
    return 0


def _migrate() -> int:
    settings = load_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    engine = open_database(settings)
    upgrade_to_head(engine)
    log.info("database_migrated")
    engine.dispose()
    return 0


def _seed_demo() -> int:
    settings = load_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    engine = open_database(settings)
    summary = seed_demo(lambda: SqlUnitOfWork(engine))
    log.info("demo_data_seeded", zones=summary.zones, trainers=summary.trainers)
    engine.dispose()
    return 0


COMMANDS = {"serve": _serve, "migrate": _migrate, "seed-demo": _seed_demo}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booking-service", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS), help="what to do")
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command]()
    except ConfigError as exc:
        print(f"booking-service: {exc}", file=sys.stderr)  # noqa: T201
        return 2
