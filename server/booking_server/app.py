"""Composition root: the only place that builds concrete objects and wires them together."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType

import structlog
from booking_client import CircuitBreaker, TrainerDirectoryClient, close_channel, get_channel
from sqlalchemy import Engine

from booking_server.config import Settings
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
from booking_server.rpc.booking_servicer import BookingServicer
from booking_server.rpc.directory_adapter import GrpcTrainerDirectory
from booking_server.rpc.health import HealthMonitor
from booking_server.rpc.server import BuiltServer, build_internal_directory_server, build_public_server
from booking_server.rpc.stream_limits import StreamLimits
from booking_server.rpc.trainer_directory_servicer import TrainerDirectoryServicer
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


class SchemaNotMigratedError(RuntimeError):
    """Serving against an unmigrated external database is refused."""


def open_database(settings: Settings) -> Engine:
    """Engine for the configured database, or for the embedded one (migrated on the spot)."""
    if settings.database_url is None:
        engine = build_engine(start_embedded_postgres(settings.data_dir), pool_size=settings.db_pool_size)
        upgrade_to_head(engine)
        return engine
    return build_engine(settings.database_url, pool_size=settings.db_pool_size)


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
    # Wake-ups of the watch streams; closing it ends them (UNAVAILABLE).
    listener: ChangeListener
    # Background loops (sync reconciler, certificate sweep); each is off when its interval is 0.
    jobs: tuple[PeriodicJob, ...] = ()
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        if self.internal is not None:
            self.internal.server.start()
        self.listener.start()
        self.public.server.start()
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
        close_channel(self.directory_target)
        self.engine.dispose()
        log.info("server_stopped")

    def serve_until_signalled(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal_received", signal=signal.Signals(signum).name)
            # Stop on another thread: the handler must return for the main thread to keep waiting.
            threading.Thread(target=self.stop, name="shutdown").start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
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

    directory_servicer = TrainerDirectoryServicer(trainers=TrainerService(uow_factory))
    internal = None
    target = settings.trainer_directory_target
    if target == "self":
        internal = build_internal_directory_server(directory_servicer, max_workers=settings.db_pool_size)
        target = f"127.0.0.1:{internal.port}"
    directory_client = TrainerDirectoryClient(
        get_channel(target),
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
    directory = GrpcTrainerDirectory(directory_client, cache_ttl_seconds=settings.directory_cache_ttl_seconds)
    promote = PromoteWaitlisted(
        uow_factory,
        directory=directory,
        clock=clock,
        sync=sync_sessions,
        group_locks=AdvisoryGroupLocks(engine),
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
        trainer_schedule=TrainerSchedule(uow_factory),
        sync_sessions=sync_sessions,
        complete_session=CompleteSession(uow_factory, issuer=issuer),
        issue_certificates=issuer,
        certificate_queries=CertificateQueries(uow_factory),
        watch_changes=watch_changes,
        stream_limits=stream_limits,
    )
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
    )
    return Application(
        settings=settings,
        engine=engine,
        public=public,
        internal=internal,
        health=health,
        directory_target=target,
        listener=listener,
        jobs=(
            build_reconciler(sync_sessions, interval_seconds=settings.reconciler_interval_seconds),
            build_certificate_sweep(issuer, interval_seconds=settings.certificate_sweep_interval_seconds),
            build_promoter(promote, uow_factory, poll_seconds=settings.promotion_poll_seconds),
            build_promotion_sweep(promote, interval_seconds=settings.promotion_interval_seconds),
            build_watch_retention(
                uow_factory, retention=retention, interval_seconds=settings.watch_cleanup_interval_seconds
            ),
        ),
    )
