"""Settings: the only module that reads os.environ."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking_server.db.engine import DEFAULT_STATEMENT_TIMEOUT_SECONDS


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
    # True when BOOKING_AUTH_MODE was set, even to `none` (product 8.1: `none` off loopback).
    auth_mode_explicit: bool
    auth_jwks_file: Path | None
    auth_issuer: str
    auth_audience: str
    auth_roles_file: Path | None
    tls_cert_file: Path | None
    tls_key_file: Path | None
    tls_client_ca_file: Path | None
    health_listen_addr: str
    rate_limit_per_second: float
    rate_limit_burst: int
    metrics_addr: str
    log_format: str
    log_level: str
    db_pool_size: int
    statement_timeout_seconds: float
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


ALL_COMMANDS = ("serve", "migrate", "seed-demo")
SERVE = ("serve",)


@dataclass(frozen=True, slots=True)
class EnvironmentVariable:
    """One variable `load_settings` reads, for each command's --help (and the README's table)."""

    name: str
    default: str
    meaning: str
    # The commands whose behaviour it changes (every command checks every value).
    commands: tuple[str, ...] = SERVE


ENVIRONMENT: tuple[EnvironmentVariable, ...] = (
    EnvironmentVariable(
        "BOOKING_DATABASE_URL", "unset", "SQLAlchemy URL; unset = the embedded PostgreSQL", ALL_COMMANDS
    ),
    EnvironmentVariable(
        "BOOKING_DATA_DIR", "./.booking-data", "where the embedded PostgreSQL lives", ALL_COMMANDS
    ),
    EnvironmentVariable("BOOKING_DB_POOL_SIZE", "16", "database connection pool size", ALL_COMMANDS),
    EnvironmentVariable(
        "BOOKING_STATEMENT_TIMEOUT_SECONDS", "30", "no database statement runs longer", ALL_COMMANDS
    ),
    EnvironmentVariable("BOOKING_LOG_FORMAT", "json", "json or console (logs go to stderr)", ALL_COMMANDS),
    EnvironmentVariable("BOOKING_LOG_LEVEL", "info", "debug, info, warning or error", ALL_COMMANDS),
    EnvironmentVariable("BOOKING_LISTEN_ADDR", "127.0.0.1:50051", "gRPC listen address (host:port)"),
    EnvironmentVariable(
        "BOOKING_TRAINER_DIRECTORY_TARGET", "self", "where BookingService finds the trainer directory"
    ),
    EnvironmentVariable("BOOKING_TIMEZONE", "Asia/Kolkata", "business timezone (IANA name)"),
    EnvironmentVariable(
        "BOOKING_AUTH_MODE", "none on loopback", "none, jwt or mtls (README: Authentication)"
    ),
    EnvironmentVariable("BOOKING_AUTH_JWKS_FILE", "unset", "jwt: the JWKS file (reread on change)"),
    EnvironmentVariable("BOOKING_AUTH_ISSUER", "unset", "jwt: the required iss"),
    EnvironmentVariable("BOOKING_AUTH_AUDIENCE", "unset", "jwt: the required aud"),
    EnvironmentVariable("BOOKING_AUTH_ROLES_FILE", "unset", "mtls: caller -> roles (reread on change)"),
    EnvironmentVariable("BOOKING_TLS_CERT_FILE", "unset", "server certificate (PEM): TLS on"),
    EnvironmentVariable("BOOKING_TLS_KEY_FILE", "unset", "its private key (PEM)"),
    EnvironmentVariable("BOOKING_TLS_CLIENT_CA_FILE", "unset", "CA that must sign client certificates"),
    EnvironmentVariable("BOOKING_HEALTH_LISTEN_ADDR", "empty", "plaintext health-only listener, for probes"),
    EnvironmentVariable(
        "BOOKING_RATE_LIMIT_PER_SECOND", "0 (off)", "calls per second per caller per replica"
    ),
    EnvironmentVariable(
        "BOOKING_RATE_LIMIT_BURST", "the rate, rounded up", "calls allowed at once per caller"
    ),
    EnvironmentVariable("BOOKING_METRICS_ADDR", "empty", "host:port of the Prometheus /metrics endpoint"),
    EnvironmentVariable("BOOKING_WATCH_RETENTION_HOURS", "24", "how long watch events stay resumable"),
    EnvironmentVariable("BOOKING_WATCH_HEARTBEAT_SECONDS", "10", "heartbeat of a quiet watch stream (<= 15)"),
    EnvironmentVariable("BOOKING_WATCH_MAX_STREAMS", "32", "open watch streams per replica"),
    EnvironmentVariable("BOOKING_WATCH_MAX_STREAMS_PER_CALLER", "8", "open watch streams per caller"),
    EnvironmentVariable("BOOKING_WATCH_SEND_TIMEOUT_SECONDS", "30", "a watcher slower than this is ended"),
    EnvironmentVariable("BOOKING_WATCH_CLEANUP_INTERVAL_SECONDS", "300", "period of the watch retention job"),
    EnvironmentVariable(
        "BOOKING_MAX_CONCURRENT_RPCS", "8 x pool size", "above it: RESOURCE_EXHAUSTED OVERLOADED"
    ),
    EnvironmentVariable("BOOKING_SHUTDOWN_GRACE_SECONDS", "10", "how long SIGTERM lets RPCs finish"),
    EnvironmentVariable("BOOKING_HEALTH_POLL_SECONDS", "2", "how often health checks the database"),
    EnvironmentVariable("BOOKING_DIRECTORY_CALL_TIMEOUT_SECONDS", "2", "deadline of each directory call"),
    EnvironmentVariable("BOOKING_DIRECTORY_BREAKER_FAILURES", "5", "failures that open the breaker"),
    EnvironmentVariable("BOOKING_DIRECTORY_BREAKER_RESET_SECONDS", "30", "how long the breaker stays open"),
    EnvironmentVariable("BOOKING_DIRECTORY_CACHE_TTL_SECONDS", "0", "directory answer cache TTL (0 = off)"),
    EnvironmentVariable(
        "BOOKING_RECONCILER_INTERVAL_SECONDS", "30", "read-model reconciler period (0 = off)"
    ),
    EnvironmentVariable(
        "BOOKING_CERTIFICATE_SWEEP_INTERVAL_SECONDS", "60", "certificate sweep period (0 = off)"
    ),
    EnvironmentVariable(
        "BOOKING_PROMOTION_INTERVAL_SECONDS", "60", "waitlist promotion sweep period (0 = off)"
    ),
    EnvironmentVariable(
        "BOOKING_PROMOTION_POLL_SECONDS", "1", "how often promotion triggers are read (0 = off)"
    ),
)


def environment_of(command: str) -> tuple[EnvironmentVariable, ...]:
    """The variables that change what `command` does, in ENVIRONMENT's order."""
    return tuple(variable for variable in ENVIRONMENT if command in variable.commands)


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


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "")
    return Path(raw) if raw else None


AUTH_MODES = ("none", "jwt", "mtls")
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def is_loopback(listen_addr: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; 0.0.0.0 and any other host are not."""
    host = listen_addr.rsplit(":", 1)[0]
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _check_auth(settings: Settings) -> None:
    """What each mode needs (product 8.1); a missing piece stops every command with one line."""
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise ConfigError("BOOKING_TLS_CERT_FILE and BOOKING_TLS_KEY_FILE must be set together")
    if settings.tls_client_ca_file is not None and settings.tls_cert_file is None:
        raise ConfigError("BOOKING_TLS_CLIENT_CA_FILE needs BOOKING_TLS_CERT_FILE and BOOKING_TLS_KEY_FILE")
    needed: dict[str, object] = {}
    if settings.auth_mode == "jwt":
        needed = {
            "BOOKING_AUTH_JWKS_FILE": settings.auth_jwks_file,
            "BOOKING_AUTH_ISSUER": settings.auth_issuer,
            "BOOKING_AUTH_AUDIENCE": settings.auth_audience,
        }
    elif settings.auth_mode == "mtls":
        needed = {
            "BOOKING_TLS_CERT_FILE": settings.tls_cert_file,
            "BOOKING_TLS_CLIENT_CA_FILE": settings.tls_client_ca_file,
            "BOOKING_AUTH_ROLES_FILE": settings.auth_roles_file,
        }
    missing = [name for name, value in needed.items() if not value]
    if missing:
        raise ConfigError(f"BOOKING_AUTH_MODE={settings.auth_mode} needs {', '.join(missing)}")


def require_safe_to_serve(settings: Settings) -> None:
    """Product 8.1: `none` serves a non-loopback address only when the mode was set explicitly."""
    if (
        settings.auth_mode == "none"
        and not settings.auth_mode_explicit
        and not is_loopback(settings.listen_addr)
    ):
        raise ConfigError(
            f"BOOKING_LISTEN_ADDR {settings.listen_addr} is not loopback and BOOKING_AUTH_MODE is unset: "
            "set BOOKING_AUTH_MODE to jwt or mtls (or to none, to serve without credentials)"
        )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or the mapping given, for tests)."""
    env = os.environ if env is None else env
    timezone = env.get("BOOKING_TIMEZONE", "") or "Asia/Kolkata"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"BOOKING_TIMEZONE is not a known timezone: {timezone!r}") from exc
    pool_size = _int(env, "BOOKING_DB_POOL_SIZE", 16, minimum=1)
    rate_per_second = _float(env, "BOOKING_RATE_LIMIT_PER_SECOND", 0.0)
    # The burst is at least one second's worth of calls (see rpc/rate_limit.py).
    burst = _int(env, "BOOKING_RATE_LIMIT_BURST", max(1, math.ceil(rate_per_second)), minimum=1)
    if burst < rate_per_second:
        raise ConfigError(f"BOOKING_RATE_LIMIT_BURST must be >= BOOKING_RATE_LIMIT_PER_SECOND, got {burst}")
    settings = Settings(
        database_url=env.get("BOOKING_DATABASE_URL") or None,
        data_dir=Path(env.get("BOOKING_DATA_DIR", "") or "./.booking-data"),
        listen_addr=env.get("BOOKING_LISTEN_ADDR", "") or "127.0.0.1:50051",
        trainer_directory_target=env.get("BOOKING_TRAINER_DIRECTORY_TARGET", "") or "self",
        timezone=timezone,
        auth_mode=_choice(env, "BOOKING_AUTH_MODE", "none", AUTH_MODES),
        auth_mode_explicit=bool(env.get("BOOKING_AUTH_MODE", "")),
        auth_jwks_file=_path(env, "BOOKING_AUTH_JWKS_FILE"),
        auth_issuer=env.get("BOOKING_AUTH_ISSUER", ""),
        auth_audience=env.get("BOOKING_AUTH_AUDIENCE", ""),
        auth_roles_file=_path(env, "BOOKING_AUTH_ROLES_FILE"),
        tls_cert_file=_path(env, "BOOKING_TLS_CERT_FILE"),
        tls_key_file=_path(env, "BOOKING_TLS_KEY_FILE"),
        tls_client_ca_file=_path(env, "BOOKING_TLS_CLIENT_CA_FILE"),
        health_listen_addr=env.get("BOOKING_HEALTH_LISTEN_ADDR", ""),
        rate_limit_per_second=rate_per_second,
        rate_limit_burst=burst,
        metrics_addr=env.get("BOOKING_METRICS_ADDR", ""),
        log_format=_choice(env, "BOOKING_LOG_FORMAT", "json", ("json", "console")),
        log_level=(env.get("BOOKING_LOG_LEVEL", "") or "info").lower(),
        db_pool_size=pool_size,
        statement_timeout_seconds=_float(
            env, "BOOKING_STATEMENT_TIMEOUT_SECONDS", DEFAULT_STATEMENT_TIMEOUT_SECONDS
        ),
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
    _check_auth(settings)
    return settings


def _heartbeat_seconds(env: Mapping[str, str]) -> float:
    """Product 6 promises a heartbeat at least every 15 s on a quiet stream."""
    name = "BOOKING_WATCH_HEARTBEAT_SECONDS"
    value = _float(env, name, 10.0)
    if not 0 < value <= 15:
        raise ConfigError(f"{name} must be > 0 and <= 15, got {value}")
    return value
