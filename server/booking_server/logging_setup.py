"""structlog configuration: JSON lines (or console) on stderr, stdlib logging routed the same way."""

from __future__ import annotations

import logging
import sys

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(*, log_format: str, level: str) -> None:
    numeric_level = _LEVELS.get(level, logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if log_format == "json" else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        # Not cached: tests (and operators) can reconfigure logging at run time and every
        # module-level logger follows; the lookup costs microseconds per event.
        cache_logger_on_first_use=False,
    )
    # Libraries (alembic, pgserver) log through stdlib; keep them quiet unless they warn.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
