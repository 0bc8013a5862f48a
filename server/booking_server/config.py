"""Settings: the only module that reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """An environment variable has a value the service cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    data_dir: Path
    listen_addr: str
    trainer_directory_target: str
    timezone: str
    auth_mode: str
    metrics_addr: str
    log_format: str
    log_level: str
    db_pool_size: int
    max_concurrent_rpcs: int
    shutdown_grace_seconds: float
    health_poll_seconds: float
    directory_call_timeout_seconds: float
    directory_breaker_failures: int
    directory_breaker_reset_seconds: float
    directory_cache_ttl_seconds: float
    reconciler_interval_seconds: float
    certificate_sweep_interval_seconds: float
    promotion_interval_seconds: float
    promotion_poll_seconds: float
    watch_retention_hours: float
    watch_heartbeat_seconds: float
    watch_max_streams: int
    watch_max_streams_per_caller: int
    watch_send_timeout_seconds: float
    watch_cleanup_interval_seconds: float

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must be >= 0, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "") or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or the mapping given, for tests)."""
    env = os.environ if env is None else env
    timezone = env.get("BOOKING_TIMEZONE", "") or "Asia/Kolkata"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"BOOKING_TIMEZONE is not a known timezone: {timezone!r}") from exc
    pool_size = _int(env, "BOOKING_DB_POOL_SIZE", 16, minimum=1)
    return Settings(
        database_url=env.get("BOOKING_DATABASE_URL") or None,
        data_dir=Path(env.get("BOOKING_DATA_DIR", "") or "./.booking-data"),
        listen_addr=env.get("BOOKING_LISTEN_ADDR", "") or "127.0.0.1:50051",
        trainer_directory_target=env.get("BOOKING_TRAINER_DIRECTORY_TARGET", "") or "self",
        timezone=timezone,
        auth_mode=_choice(env, "BOOKING_AUTH_MODE", "none", ("none",)),
        metrics_addr=env.get("BOOKING_METRICS_ADDR", ""),
        log_format=_choice(env, "BOOKING_LOG_FORMAT", "json", ("json", "console")),
        log_level=(env.get("BOOKING_LOG_LEVEL", "") or "info").lower(),
        db_pool_size=pool_size,
        # Extra RPCs beyond what the pool can serve queue briefly; past this bound gRPC answers
        # RESOURCE_EXHAUSTED instead of letting latency grow without limit.
        max_concurrent_rpcs=_int(env, "BOOKING_MAX_CONCURRENT_RPCS", pool_size * 8, minimum=1),
        shutdown_grace_seconds=_float(env, "BOOKING_SHUTDOWN_GRACE_SECONDS", 10.0),
        health_poll_seconds=_float(env, "BOOKING_HEALTH_POLL_SECONDS", 2.0),
        directory_call_timeout_seconds=_float(env, "BOOKING_DIRECTORY_CALL_TIMEOUT_SECONDS", 2.0),
        directory_breaker_failures=_int(env, "BOOKING_DIRECTORY_BREAKER_FAILURES", 5, minimum=1),
        directory_breaker_reset_seconds=_float(env, "BOOKING_DIRECTORY_BREAKER_RESET_SECONDS", 30.0),
        directory_cache_ttl_seconds=_float(env, "BOOKING_DIRECTORY_CACHE_TTL_SECONDS", 0.0),
        reconciler_interval_seconds=_float(env, "BOOKING_RECONCILER_INTERVAL_SECONDS", 30.0),
        certificate_sweep_interval_seconds=_float(env, "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS", 60.0),
        promotion_interval_seconds=_float(env, "BOOKING_PROMOTION_INTERVAL_SECONDS", 60.0),
        # How often the promoter looks for new triggers: a freeing change is acted on within
        # about this long (product 5 asks for 5 s).
        promotion_poll_seconds=_float(env, "BOOKING_PROMOTION_POLL_SECONDS", 1.0),
        # Watch streams (product 6, docs/watch.md).
        watch_retention_hours=_float(env, "BOOKING_WATCH_RETENTION_HOURS", 24.0),
        watch_heartbeat_seconds=_heartbeat_seconds(env),
        watch_max_streams=_int(env, "BOOKING_WATCH_MAX_STREAMS", 32, minimum=1),
        watch_max_streams_per_caller=_int(env, "BOOKING_WATCH_MAX_STREAMS_PER_CALLER", 8, minimum=1),
        watch_send_timeout_seconds=_float(env, "BOOKING_WATCH_SEND_TIMEOUT_SECONDS", 30.0),
        watch_cleanup_interval_seconds=_float(env, "BOOKING_WATCH_CLEANUP_INTERVAL_SECONDS", 300.0),
    )


def _heartbeat_seconds(env: Mapping[str, str]) -> float:
    """Product 6 promises a heartbeat at least every 15 s on a quiet stream."""
    name = "BOOKING_WATCH_HEARTBEAT_SECONDS"
    value = _float(env, name, 10.0)
    if not 0 < value <= 15:
        raise ConfigError(f"{name} must be > 0 and <= 15, got {value}")
    return value
