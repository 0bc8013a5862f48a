"""BookingService: one thin mixin per area, composed here.

Each mixin converts the request, calls one use case and converts the result; errors travel
as DomainErrors to the interceptor. RPCs not provided by a mixin fall through to the generated
base class, which answers UNIMPLEMENTED.
"""

from __future__ import annotations

from booking.v1 import booking_service_pb2_grpc

from booking_server.metrics import Metrics
from booking_server.rpc.assignment_rpcs import AssignmentRpcs
from booking_server.rpc.certificate_rpcs import CertificateRpcs
from booking_server.rpc.lifecycle_rpcs import LifecycleRpcs
from booking_server.rpc.schedule_rpcs import ScheduleRpcs
from booking_server.rpc.stream_limits import StreamLimits
from booking_server.rpc.sync_rpcs import SyncRpcs
from booking_server.rpc.watch_rpcs import WatchRpcs
from booking_server.rpc.zone_rpcs import ZoneRpcs
from booking_server.services.assign_trainer import AssignTrainer
from booking_server.services.cancel_purchase import CancelPurchase
from booking_server.services.certificate_queries import CertificateQueries
from booking_server.services.complete_session import CompleteSession
from booking_server.services.issue_certificates import IssueCertificates
from booking_server.services.promote_waitlisted import PromoteWaitlisted
from booking_server.services.purchase_queries import PurchaseQueries
from booking_server.services.reschedule_session import RescheduleSession
from booking_server.services.substitute_trainer import SubstituteTrainer
from booking_server.services.suggest_alternatives import SuggestAlternatives
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.trainer_schedule import TrainerSchedule
from booking_server.services.watch_changes import WatchChanges
from booking_server.services.zones import ZoneService


class BookingServicer(
    AssignmentRpcs,
    LifecycleRpcs,
    ScheduleRpcs,
    SyncRpcs,
    CertificateRpcs,
    ZoneRpcs,
    WatchRpcs,
    booking_service_pb2_grpc.BookingServiceServicer,
):
    def __init__(
        self,
        *,
        zones: ZoneService,
        assign_trainer: AssignTrainer,
        purchase_queries: PurchaseQueries,
        trainer_schedule: TrainerSchedule,
        sync_sessions: SyncSessions,
        complete_session: CompleteSession,
        issue_certificates: IssueCertificates,
        certificate_queries: CertificateQueries,
        cancel_purchase: CancelPurchase,
        reschedule_session: RescheduleSession,
        substitute_trainer: SubstituteTrainer,
        promote_waitlisted: PromoteWaitlisted,
        suggest_alternatives: SuggestAlternatives,
        metrics: Metrics,
        watch_changes: WatchChanges,
        stream_limits: StreamLimits,
    ) -> None:
        self.metrics = metrics
        self.zones = zones
        self.assign_trainer = assign_trainer
        self.purchase_queries = purchase_queries
        self.trainer_schedule = trainer_schedule
        self.sync_sessions = sync_sessions
        self.complete_session = complete_session
        self.issue_certificates = issue_certificates
        self.certificate_queries = certificate_queries
        self.cancel_purchase = cancel_purchase
        self.reschedule_session = reschedule_session
        self.substitute_trainer = substitute_trainer
        self.promote_waitlisted = promote_waitlisted
        self.suggest_alternatives = suggest_alternatives
        self.watch_changes = watch_changes
        self.stream_limits = stream_limits
