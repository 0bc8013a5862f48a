"""Proto <-> domain for AutoAssignTrainer, purchases, sessions and the assignment decision."""

from __future__ import annotations

from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2

from booking_server.domain.eligibility import Rejection
from booking_server.domain.model import (
    ClassType,
    DeliveryMode,
    GeoPoint,
    PurchaseStatus,
    SessionStatus,
    SessionType,
    Student,
    WaitlistReason,
)
from booking_server.domain.purchase import AssignmentDecision, AssignmentResult, StoredPurchase, StoredSession
from booking_server.domain.validation import AssignmentRequest
from booking_server.rpc.converters.common import geo_to_proto, timestamp_or_none
from booking_server.rpc.converters.zones import zone_to_proto
from booking_server.services.suggest_alternatives import Suggestions

_CLASS_TYPES: dict[common_pb2.ClassType.ValueType, ClassType] = {
    common_pb2.CLASS_TYPE_ONE_ON_ONE: ClassType.ONE_ON_ONE,
    common_pb2.CLASS_TYPE_ONE_ON_TWO: ClassType.ONE_ON_TWO,
    common_pb2.CLASS_TYPE_ONE_ON_THREE: ClassType.ONE_ON_THREE,
    common_pb2.CLASS_TYPE_HYBRID: ClassType.HYBRID,
}
_DELIVERY_MODES: dict[common_pb2.DeliveryMode.ValueType, DeliveryMode] = {
    common_pb2.DELIVERY_MODE_WEEKDAY_DAILY: DeliveryMode.WEEKDAY_DAILY,
    common_pb2.DELIVERY_MODE_SUNDAY_ONLY: DeliveryMode.SUNDAY_ONLY,
}
_PURCHASE_STATUSES: dict[common_pb2.PurchaseStatus.ValueType, PurchaseStatus] = {
    common_pb2.PURCHASE_STATUS_ASSIGNED: PurchaseStatus.ASSIGNED,
    common_pb2.PURCHASE_STATUS_WAITLISTED: PurchaseStatus.WAITLISTED,
    common_pb2.PURCHASE_STATUS_SERVICE_NOT_AVAILABLE: PurchaseStatus.SERVICE_NOT_AVAILABLE,
    common_pb2.PURCHASE_STATUS_INVALID_PURCHASE: PurchaseStatus.INVALID_PURCHASE,
    common_pb2.PURCHASE_STATUS_CANCELLED: PurchaseStatus.CANCELLED,
}
_WAITLIST_REASONS: dict[common_pb2.WaitlistReason.ValueType, WaitlistReason] = {
    common_pb2.WAITLIST_REASON_NO_ELIGIBLE_TRAINER: WaitlistReason.NO_ELIGIBLE_TRAINER,
    common_pb2.WAITLIST_REASON_TRAINER_DIRECTORY_UNAVAILABLE: WaitlistReason.TRAINER_DIRECTORY_UNAVAILABLE,
}
_SESSION_TYPES = {
    SessionType.ONLINE: common_pb2.SESSION_TYPE_ONLINE,
    SessionType.OFFLINE: common_pb2.SESSION_TYPE_OFFLINE,
}
_SESSION_STATUSES = {
    SessionStatus.SCHEDULED: common_pb2.SESSION_STATUS_SCHEDULED,
    SessionStatus.COMPLETED: common_pb2.SESSION_STATUS_COMPLETED,
    SessionStatus.CANCELLED: common_pb2.SESSION_STATUS_CANCELLED,
    SessionStatus.RESCHEDULED: common_pb2.SESSION_STATUS_RESCHEDULED,
}
_CLASS_TYPE_NUMBERS = {v: k for k, v in _CLASS_TYPES.items()}
_DELIVERY_MODE_NUMBERS = {v: k for k, v in _DELIVERY_MODES.items()}
_PURCHASE_STATUS_NUMBERS = {v: k for k, v in _PURCHASE_STATUSES.items()}
_WAITLIST_REASON_NUMBERS = {v: k for k, v in _WAITLIST_REASONS.items()}


def purchase_status_from_proto(value: common_pb2.PurchaseStatus.ValueType) -> PurchaseStatus | None:
    """None for UNSPECIFIED (= any, in filters) and for numbers this server does not know."""
    return _PURCHASE_STATUSES.get(value)


def assignment_request_from_proto(
    request: pb.AutoAssignTrainerRequest | pb.SuggestAlternativesRequest,
) -> AssignmentRequest:
    """The two requests share these fields, names and numbers (SuggestAlternatives never writes)."""
    location = request.student_location
    return AssignmentRequest(
        booking_id=request.booking_id,
        course_id=request.course_id,
        # Unknown enum numbers become None, which validation reports like UNSPECIFIED.
        class_type=_CLASS_TYPES.get(request.class_type),
        total_sessions=request.total_sessions,
        delivery_mode=_DELIVERY_MODES.get(request.delivery_mode),
        start_date=request.start_date,
        preferred_time_slot=request.preferred_time_slot,
        student_location=(
            GeoPoint(location.latitude, location.longitude) if request.HasField("student_location") else None
        ),
        student_address=request.student_address,
        students=tuple(Student(id=s.id, name=s.name, email=s.email, phone=s.phone) for s in request.students),
        validate_only=isinstance(request, pb.AutoAssignTrainerRequest) and request.validate_only,
    )


def purchase_to_proto(purchase: StoredPurchase) -> common_pb2.Purchase:
    return common_pb2.Purchase(
        purchase_id=purchase.purchase_id,
        booking_id=purchase.booking_id,
        course_id=purchase.course_id,
        class_type=_CLASS_TYPE_NUMBERS[purchase.class_type],
        total_sessions=purchase.total_sessions,
        delivery_mode=_DELIVERY_MODE_NUMBERS[purchase.delivery_mode],
        start_date=purchase.start_date.isoformat(),
        preferred_time_slot=purchase.preferred_time_slot,
        student_location=geo_to_proto(purchase.student_location),
        student_address=purchase.student_address,
        students=[
            common_pb2.Student(id=s.id, name=s.name, email=s.email, phone=s.phone) for s in purchase.students
        ],
        zone_id=purchase.zone_id or "",
        franchise_id=purchase.franchise_id or "",
        trainer_id=purchase.trainer_id or "",
        status=_PURCHASE_STATUS_NUMBERS[purchase.status],
        waitlist_reason=(
            _WAITLIST_REASON_NUMBERS[purchase.waitlist_reason]
            if purchase.waitlist_reason
            else common_pb2.WAITLIST_REASON_UNSPECIFIED
        ),
        message=purchase.message,
        create_time=timestamp_or_none(purchase.created_at),
        update_time=timestamp_or_none(purchase.updated_at),
        cancellation_reason=purchase.cancellation_reason,
    )


def session_to_proto(session: StoredSession) -> common_pb2.PurchaseSession:
    message = common_pb2.PurchaseSession(
        session_id=session.session_id,
        purchase_id=session.purchase_id,
        session_number=session.session_number,
        session_date=session.session_date.isoformat(),
        session_time=session.session_time,
        duration_minutes=session.duration_minutes,
        session_type=_SESSION_TYPES[session.session_type],
        status=_SESSION_STATUSES[session.status],
        trainer_id=session.trainer_id or "",
    )
    if session.flags is not None:
        message.flags.CopyFrom(
            common_pb2.SessionFlags(
                is_bookable=session.flags.is_bookable,
                is_fixed_time=session.flags.is_fixed_time,
                requires_booking=session.flags.requires_booking,
                initial_time_slot=session.flags.initial_time_slot,
            )
        )
    return message


def _rejection_to_proto(rejection: Rejection) -> pb.CandidateRejection:
    return pb.CandidateRejection(
        trainer_id=rejection.trainer_id, reason=rejection.reason.value, detail=rejection.detail
    )


def decision_to_proto(decision: AssignmentDecision) -> pb.AssignmentDecision:
    message = pb.AssignmentDecision(ranked_trainer_ids=list(decision.ranked_trainer_ids))
    if decision.zone is not None:
        message.zone.CopyFrom(zone_to_proto(decision.zone))
    message.rejections.extend(_rejection_to_proto(r) for r in decision.all_rejections)
    query = decision.candidate_query
    if query is not None:
        message.candidate_query.CopyFrom(
            pb.CandidateQuery(
                course_id=query.course_id,
                franchise_id=query.franchise_id or "",
                company_only=query.franchise_id is None,
                zone_id=query.zone_id,
                trainers_returned=query.trainers_returned,
            )
        )
    return message


def assignment_result_to_proto(result: AssignmentResult) -> pb.AutoAssignTrainerResponse:
    return pb.AutoAssignTrainerResponse(
        purchase=purchase_to_proto(result.purchase),
        sessions=[session_to_proto(s) for s in result.sessions],
        decision=decision_to_proto(result.decision),
    )


def suggestions_to_proto(found: Suggestions) -> pb.SuggestAlternativesResponse:
    return pb.SuggestAlternativesResponse(
        alternatives=[
            pb.Alternative(
                start_date=a.start_date.isoformat(),
                time_slot=a.time_slot,
                trainer_id=a.trainer_id,
                distance_km=a.distance_km or 0.0,
            )
            for a in found.alternatives
        ],
        status=_PURCHASE_STATUS_NUMBERS[found.status]
        if found.status
        else common_pb2.PURCHASE_STATUS_UNSPECIFIED,
        message=found.message,
    )
