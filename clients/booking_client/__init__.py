"""Typed clients of the booking service APIs, installable without the server."""

from booking_client.channels import close_all_channels, close_channel, get_channel
from booking_client.circuit_breaker import BreakerState, CircuitBreaker
from booking_client.directory import MAX_BATCH_SIZE, TrainerDirectoryClient, ZoneScope
from booking_client.errors import (
    CallerDeadlineExceededError,
    DirectoryNotFoundError,
    DirectoryUnavailableError,
)
from booking_client.ttl_cache import TtlCache
from booking_client.watch import Backoff, watch_purchase_changes, watch_schedule_changes, watch_with_resume

__all__ = [
    "MAX_BATCH_SIZE",
    "Backoff",
    "BreakerState",
    "CallerDeadlineExceededError",
    "CircuitBreaker",
    "DirectoryNotFoundError",
    "DirectoryUnavailableError",
    "TrainerDirectoryClient",
    "TtlCache",
    "ZoneScope",
    "close_all_channels",
    "close_channel",
    "get_channel",
    "watch_purchase_changes",
    "watch_schedule_changes",
    "watch_with_resume",
]
