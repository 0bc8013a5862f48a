"""Composition root: the only place that builds concrete objects and wires them together."""

from __future__ import annotations

import secrets
import signal
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
import structlog
from booking_client import CircuitBreaker, TrainerDirectoryClient, close_channel, get_channel
from sqlalchemy import Engine

from booking_server.config import ConfigError, Settings
from booking_server.db.backlog import read_backlog
from booking_server.db.change_listener import ChangeListener
from booking_server.db.embedded import start_embedded_postgres
from booking_server.db.engine import build_engine, database_is_reachable
from booking_server.db.group_locks import AdvisoryGroupLocks
from booking_server.db.migrate import schema_is_current, upgrade_to_head
from booking_server.db.unit_of_work import SqlUnitOfWork
from booking_server.jobs.certificate_sweep import build_certificate_sweep
from booking_server.jobs.periodic import PeriodicJob
from booking_server.jobs.promotion import build_promoter, build_promotion_sweep
from booking_server.jobs.reconciler import build_reconciler
from booking_server.jobs.watch_retention import build_watch_retention
from booking_server.logging_setup import configure_logging
from booking_server.metrics import Metrics
from booking_server.rpc.auth import (
    Authenticator,
    AuthInterceptor,
    Caller,
    PeerAuthenticator,
    SecretAuthenticator,
)
from booking_server.rpc.auth_jwt import JwtAuthenticator
from booking_server.rpc.auth_mtls import CertificateAuthenticator
from booking_server.rpc.booking_servicer import BookingServicer
from booking_server.rpc.directory_adapter import GrpcTrainerDirectory
from booking_server.rpc.health import HealthMonitor
from booking_server.rpc.metrics_interceptor import MetricsInterceptor
from booking_server.rpc.rate_limit import RateLimitInterceptor
from booking_server.rpc.server import (
    BuiltServer,
    build_health_server,
    build_internal_directory_server,
    build_public_server,
    server_credentials,
)
from booking_server.rpc.stream_limits import StreamLimits
from booking_server.rpc.trainer_directory_servicer import TrainerDirectoryServicer
from booking_server.rpc.watched_file import RELOAD_INTERVAL_SECONDS, WatchedFile
from booking_server.services.assign_trainer import AssignTrainer
from booking_server.services.cancel_purchase import CancelPurchase
from booking_server.services.certificate_queries import CertificateQueries
from booking_server.services.clock import BusinessClock
from booking_server.services.complete_session import CompleteSession
from booking_server.services.issue_certificates import IssueCertificates
from booking_server.services.promote_waitlisted import PromoteWaitlisted
from booking_server.services.purchase_queries import PurchaseQueries
from booking_server.services.reschedule_session import RescheduleSession
from booking_server.services.substitute_trainer import SubstituteTrainer
from booking_server.services.suggest_alternatives import SuggestAlternatives
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.trainer_schedule import TrainerSchedule
from booking_server.services.trainers import TrainerService
from booking_server.services.unit_of_work import UnitOfWork
from booking_server.services.watch_changes import WatchChanges, WatchSettings
from booking_server.services.zones import ZoneService

log = structlog.get_logger(__name__)

# How often the backlog gauges (waitlisted purchases, unsynced sessions) are counted.
BACKLOG_METRICS_INTERVAL_SECONDS = 15.0
# The built-in directory's caller on its internal server: BookingService only reads trainers.
SELF_CALLER = Caller(name="self", roles=frozenset({"directory.reader"}))


class SchemaNotMigratedError(RuntimeError):
    """Serving against an unmigrated external database is refused."""


def open_database(settings: Settings) -> Engine:
    """Engine for the configured database, or for the embedded one (migrated on the spot)."""
    if settings.database_url is None:
        url = start_embedded_postgres(settings.data_dir)
    else:
        url = settings.database_url
    engine = build_engine(
        url, pool_size=settings.db_pool_size, statement_timeout_seconds=settings.statement_timeout_seconds
    )
    if settings.database_url is None:
        upgrade_to_head(engine)
    return engine


def _probe(engine: Engine) -> bool:
    return database_is_reachable(engine) and schema_is_current(engine)


@dataclass
class Application:
    settings: Settings
    engine: Engine
    public: BuiltServer
    internal: BuiltServer | None
    health: HealthMonitor
    directory_target: str
    metrics: Metrics
    # Wake-ups of the watch streams; closing it ends them (UNAVAILABLE).
    listener: ChangeListener
    # Plaintext health for probes that cannot do TLS (BOOKING_HEALTH_LISTEN_ADDR).
    health_server: BuiltServer | None = None
    # Background loops (sync reconciler, certificate sweep); each is off when its interval is 0.
    jobs: tuple[PeriodicJob, ...] = ()
    stopped: threading.Event = field(default_factory=threading.Event)
    metrics_server: WSGIServer | None = None

    def start(self) -> None:
        if self.internal is not None:
            self.internal.server.start()
        self.listener.start()
        self.public.server.start()
        if self.health_server is not None:
            self.health_server.server.start()
        if self.settings.metrics_addr:
            self.metrics_server = self.metrics.serve(self.settings.metrics_addr)
        self.health.start()
        for job in self.jobs:
            job.start()
        log.info("server_started", port=self.public.port, listen_addr=self.settings.listen_addr)

    def stop(self) -> None:
        """Drain: report NOT_SERVING, refuse new RPCs, let in-flight ones finish, then close."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        log.info("server_stopping", grace_seconds=self.settings.shutdown_grace_seconds)
        self.health.shutdown()
        for job in self.jobs:
            job.stop()
        drained = self.public.server.stop(self.settings.shutdown_grace_seconds)  # refuses new RPCs now
        # Open watch streams never finish by themselves: end them (UNAVAILABLE, product 6) so
        # the drain takes moments, not the whole grace period.
        self.listener.close()
        drained.wait()
        if self.internal is not None:
            self.internal.server.stop(1.0).wait()
        if self.health_server is not None:
            self.health_server.server.stop(None).wait()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
        close_channel(self.directory_target)
        self.engine.dispose()
        log.info("server_stopped")

    def serve_until_signalled(self) -> None:
        # A signal during start-up must not run stop() between start()'s steps (a stopping server
        # would then be SERVING): it is held until start() is done. Handlers run on this thread.
        state = {"started": False, "signalled": False}

        def shut_down() -> None:
            # On another thread: the handler must return for the main thread to keep waiting.
            threading.Thread(target=self.stop, name="shutdown").start()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal_received", signal=signal.Signals(signum).name)
            if state["started"]:
                shut_down()
            else:
                state["signalled"] = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        state["started"] = True
        if state["signalled"]:
            shut_down()
        self.public.server.wait_for_termination()
        self.stopped.wait()


def build_application(settings: Settings, engine: Engine | None = None) -> Application:
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    engine = engine or open_database(settings)
    if database_is_reachable(engine) and not schema_is_current(engine):
        raise SchemaNotMigratedError(
            "the database schema is not migrated; run `booking-service migrate` first"
        )

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    metrics = Metrics()
    directory_servicer = TrainerDirectoryServicer(trainers=TrainerService(uow_factory))
    internal = None
    target = settings.trainer_directory_target
    directory_metadata: tuple[tuple[str, str], ...] = ()
    if target == "self":
        secret = secrets.token_urlsafe(32)
        internal = build_internal_directory_server(
            directory_servicer,
            max_workers=settings.db_pool_size,
            gate=AuthInterceptor(SecretAuthenticator(secret, SELF_CALLER)),
        )
        target = f"127.0.0.1:{internal.port}"
        directory_metadata = (("authorization", f"Bearer {secret}"),)
    directory_client = TrainerDirectoryClient(
        get_channel(target),
        metadata=directory_metadata,
        call_timeout_seconds=settings.directory_call_timeout_seconds,
        breaker=CircuitBreaker(
            failure_threshold=settings.directory_breaker_failures,
            reset_timeout_seconds=settings.directory_breaker_reset_seconds,
        ),
    )
    zones = ZoneService(uow_factory)
    clock = BusinessClock(settings.timezone)
    sync_sessions = SyncSessions(uow_factory)
    issuer = IssueCertificates(uow_factory, clock=clock)
    # The cache sits after conversion, so a hit skips the call and the conversion both.
    directory = GrpcTrainerDirectory(
        directory_client, metrics=metrics, cache_ttl_seconds=settings.directory_cache_ttl_seconds
    )
    promote = PromoteWaitlisted(
        uow_factory,
        directory=directory,
        clock=clock,
        sync=sync_sessions,
        group_locks=AdvisoryGroupLocks(engine),
        on_promoted=metrics.promotions.inc,
    )
    listener = ChangeListener(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    retention = timedelta(hours=settings.watch_retention_hours)
    watch_changes = WatchChanges(
        uow_factory,
        wakeups=listener,
        settings=WatchSettings(
            retention=retention,
            heartbeat_seconds=settings.watch_heartbeat_seconds,
            send_timeout_seconds=settings.watch_send_timeout_seconds,
        ),
    )
    stream_limits = StreamLimits(
        total=settings.watch_max_streams, per_caller=settings.watch_max_streams_per_caller
    )
    booking_servicer = BookingServicer(
        zones=zones,
        assign_trainer=AssignTrainer(
            uow_factory=uow_factory, directory=directory, clock=clock, after_assigned=sync_sessions.mirror
        ),
        cancel_purchase=CancelPurchase(uow_factory, sync=sync_sessions),
        reschedule_session=RescheduleSession(
            uow_factory, directory=directory, clock=clock, sync=sync_sessions
        ),
        substitute_trainer=SubstituteTrainer(
            uow_factory, directory=directory, clock=clock, sync=sync_sessions
        ),
        promote_waitlisted=promote,
        suggest_alternatives=SuggestAlternatives(uow_factory=uow_factory, directory=directory, clock=clock),
        purchase_queries=PurchaseQueries(uow_factory),
        trainer_schedule=TrainerSchedule(uow_factory, directory=directory),
        sync_sessions=sync_sessions,
        complete_session=CompleteSession(uow_factory, issuer=issuer),
        issue_certificates=issuer,
        certificate_queries=CertificateQueries(uow_factory),
        metrics=metrics,
        watch_changes=watch_changes,
        stream_limits=stream_limits,
    )
    metrics.breaker_open.set_function(lambda: float(directory_client.breaker.state == "open"))
    metrics.pool_in_use.set_function(lambda: float(getattr(engine.pool, "checkedout", lambda: 0)()))
    authenticator, watched = _authenticator(settings)
    health = HealthMonitor(lambda: _probe(engine), interval_seconds=settings.health_poll_seconds)
    public = build_public_server(
        listen_addr=settings.listen_addr,
        booking=booking_servicer,
        directory=directory_servicer,
        health_servicer=health.servicer,
        # One worker per pooled connection, plus headroom for health and reflection calls, plus
        # one per watch stream (each holds its worker while open, and no connection while idle):
        # however many streams are open, unary calls keep their workers (docs/watch.md).
        max_workers=settings.db_pool_size + 4 + settings.watch_max_streams,
        max_concurrent_rpcs=settings.max_concurrent_rpcs + settings.watch_max_streams,
        gates=_gates(settings, metrics, authenticator),
        credentials=_credentials(settings),
    )
    return Application(
        settings=settings,
        engine=engine,
        public=public,
        internal=internal,
        health=health,
        directory_target=target,
        metrics=metrics,
        health_server=(
            build_health_server(health.servicer, listen_addr=settings.health_listen_addr)
            if settings.health_listen_addr
            else None
        ),
        listener=listener,
        jobs=(
            *(_reload_job(w) for w in watched),
            _backlog_job(engine, metrics, enabled=bool(settings.metrics_addr)),
            build_reconciler(sync_sessions, interval_seconds=settings.reconciler_interval_seconds),
            build_certificate_sweep(issuer, interval_seconds=settings.certificate_sweep_interval_seconds),
            build_promoter(promote, uow_factory, poll_seconds=settings.promotion_poll_seconds),
            build_promotion_sweep(promote, interval_seconds=settings.promotion_interval_seconds),
            build_watch_retention(
                uow_factory, retention=retention, interval_seconds=settings.watch_cleanup_interval_seconds
            ),
        ),
    )


def _authenticator(settings: Settings) -> tuple[Authenticator, tuple[WatchedFile[Any], ...]]:
    """The mode's authenticator (product 8.1), and the files it rereads when they change."""
    try:
        if settings.auth_mode == "jwt":
            assert settings.auth_jwks_file is not None  # checked by config
            jwt_auth = JwtAuthenticator.from_file(
                settings.auth_jwks_file, issuer=settings.auth_issuer, audience=settings.auth_audience
            )
            return jwt_auth, (jwt_auth.keys,)
        if settings.auth_mode == "mtls":
            assert settings.auth_roles_file is not None  # checked by config
            mtls_auth = CertificateAuthenticator.from_file(settings.auth_roles_file)
            return mtls_auth, (mtls_auth.roles,)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"BOOKING_AUTH_MODE={settings.auth_mode}: cannot use its file: {exc}") from exc
    return PeerAuthenticator(), ()


def _credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS in any mode when a certificate is configured; a client CA makes it mutual."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    try:
        return server_credentials(
            cert_file=settings.tls_cert_file,
            key_file=settings.tls_key_file,
            client_ca_file=settings.tls_client_ca_file,
        )
    except OSError as exc:
        raise ConfigError(f"cannot read the TLS files: {exc}") from exc


def _gates(
    settings: Settings, metrics: Metrics, authenticator: Authenticator
) -> list[grpc.ServerInterceptor]:  # type: ignore[type-arg]
    """Metrics first (it records the final code), then authentication, then the rate limit."""
    gates: list[grpc.ServerInterceptor] = [MetricsInterceptor(metrics), AuthInterceptor(authenticator)]  # type: ignore[type-arg]
    if settings.rate_limit_per_second > 0:
        gates.append(
            RateLimitInterceptor(per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
        )
    return gates


def _reload_job(watched: WatchedFile[Any]) -> PeriodicJob:
    def run_round(_should_stop: object) -> bool:
        watched.refresh()
        return False

    return PeriodicJob(
        name=f"reload-{watched.path.name}", interval_seconds=RELOAD_INTERVAL_SECONDS, run_round=run_round
    )


def _backlog_job(engine: Engine, metrics: Metrics, *, enabled: bool) -> PeriodicJob:
    def run_round(_should_stop: object) -> bool:
        backlog = read_backlog(engine)
        metrics.waitlisted.set(backlog.waitlisted_purchases)
        metrics.unsynced.set(backlog.unsynced_sessions)
        return False

    interval = BACKLOG_METRICS_INTERVAL_SECONDS if enabled else 0.0
    return PeriodicJob(name="backlog-metrics", interval_seconds=interval, run_round=run_round)
