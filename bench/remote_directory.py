"""Phase main_remote_dir: the trainer directory in a process of its own, as deployed in production.

The other phases run with BOOKING_TRAINER_DIRECTORY_TARGET=self: BookingService calls the
directory over gRPC inside its own process. In production the directory is a separate service.
This phase starts two more `booking-service serve` processes on the world's database: a
directory, and a booking server whose directory target is that first process. The load goes to
the booking server; both are measured (CPU per call, peak RSS) and both are stopped at the end.
The world's own server stays up and keeps running the world's background jobs, so these two run
none (service.BACKGROUND_JOBS_OFF).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.service import BACKGROUND_JOBS_OFF, RunningService, start_service


@contextmanager
def booking_with_remote_directory(
    database_url: str, log_path: Path, cache_ttl: float | None, processes: dict[str, Any]
) -> Iterator[tuple[RunningService, RunningService]]:
    """Start the directory, then the booking server pointed at it, and yield (booking, directory).
    On the way out, after a failure too, stop both (the booking server first: it is the
    directory's client) and put what service.finish() says of each in `processes`."""

    def log_of(role: str) -> Path:
        return log_path.with_name(f"{log_path.stem}-{role}.log")

    directory = start_service(database_url, log_of("directory"), cache_ttl, extra_env=BACKGROUND_JOBS_OFF)
    try:
        to_directory = {"BOOKING_TRAINER_DIRECTORY_TARGET": directory.target}
        booking = start_service(
            database_url, log_of("booking"), cache_ttl, extra_env=BACKGROUND_JOBS_OFF | to_directory
        )
        try:
            yield booking, directory
            booking.check_alive()
            directory.check_alive()
        finally:
            processes["booking"] = booking.finish()
    finally:
        processes["directory"] = directory.finish()
