"""`booking-service serve | migrate | seed-demo`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from booking_server.app import SchemaNotMigratedError, build_application, open_database
from booking_server.config import ConfigError, environment_of, load_settings, require_safe_to_serve
from booking_server.db.migrate import upgrade_to_head
from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.logging_setup import configure_logging
from booking_server.rpc.server import ListenAddressError, check_listen_address
from booking_server.services.seed_demo import HYDERABAD_CENTRE, SeedSummary, seed_demo

log = structlog.get_logger("booking_server.cli")


def _serve() -> int:
    settings = load_settings()
    require_safe_to_serve(settings)
    # Before the database starts: a busy port is one line, not a core log line and a traceback.
    check_listen_address(settings.listen_addr)
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
    print(seed_report(summary))  # noqa: T201 - what the command wrote is its output
    return 0


def seed_report(summary: SeedSummary) -> str:
    """What seed-demo wrote, for a person reading stdout."""
    zones = "\n".join(f"  {zone_id}  {name}" for zone_id, name in summary.zone_names)
    courses = "\n".join(f"  {course_id}" for course_id in summary.course_ids)
    return (
        f"Wrote {summary.zones} demo zones and {summary.trainers} demo trainers "
        f"({summary.active_trainers} active); the ids are fixed, so a second run rewrites the same rows.\n"
        f"Zones:\n{zones}\n"
        f"Courses to assign (AutoAssignTrainer course_id):\n{courses}\n"
        f"A student at latitude {HYDERABAD_CENTRE.latitude}, longitude {HYDERABAD_CENTRE.longitude} "
        f"is served by {summary.zone_names[0][1]}."
    )


@dataclass(frozen=True, slots=True)
class Command:
    summary: str
    run: Callable[[], int]


COMMANDS = {
    "serve": Command("serve both services until SIGTERM or SIGINT", _serve),
    "migrate": Command("apply every database migration and exit", _migrate),
    "seed-demo": Command("write the demo zones and trainers (idempotent) and list them", _seed_demo),
}


def environment_help(command: str) -> str:
    """The --help epilog of one command: the environment variables it reads."""
    variables = environment_of(command)
    width = max(len(variable.name) for variable in variables)
    rows = "\n".join(
        f"  {variable.name:<{width}}  {variable.meaning} (default: {variable.default})"
        for variable in variables
    )
    return f"environment variables:\n{rows}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booking-service",
        description=__doc__,
        epilog="`booking-service COMMAND --help` lists the environment variables COMMAND reads.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        commands.add_parser(
            name,
            help=command.summary,
            description=command.summary,
            epilog=environment_help(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run()
    except (ConfigError, ListenAddressError) as exc:
        print(f"booking-service: {exc}", file=sys.stderr)  # noqa: T201
        return 2
