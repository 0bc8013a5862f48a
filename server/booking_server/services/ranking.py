"""Which trainers may take given sessions of a purchase: rules 1-7 and the ranking of 1.6 for
those sessions only (product 1.5-1.6, 4.2, 4.3, 5).

Used by AutoAssignTrainer (a new purchase's schedule), RescheduleSession (one session at its new
time), SubstituteTrainer (the rest of a course) and the waitlist promotion (every session of a
waiting purchase). Slots of sessions being moved are left out of the calendars: a session does
not conflict with itself.
services/reservation.py then tries the ranked trainers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from booking_server.domain.eligibility import (
    Rejection,
    RejectionReason,
    judge_availability,
    qualify_candidates,
)
from booking_server.domain.model import GeoPoint, ScheduledSession, Zone
from booking_server.domain.purchase import AssignmentDecision
from booking_server.services.ports.directory import CandidateList
from booking_server.services.reservation import RankedChoice
from booking_server.services.unit_of_work import UnitOfWork


def rank_for_sessions(
    uow: UnitOfWork,
    *,
    candidates: CandidateList,
    zone: Zone,
    course_id: str,
    student_location: GeoPoint,
    sessions: Sequence[ScheduledSession],
    ignoring_session_ids: Sequence[str] = (),
    excluded: frozenset[str] = frozenset(),
) -> RankedChoice:
    """Rules 1-3 (cached per zone), 4-5, then one calendar read and one load read for the
    trainers that passed; the decision lists the zone's rejections, then the others by trainer."""
    placement = candidates.placement_for(zone)
    qualified = qualify_candidates(
        placement.passed, zone=zone, course_id=course_id, student_location=student_location
    )
    pool = [t for t in qualified.passed if t.trainer_id not in excluded]
    trainer_ids = [t.trainer_id for t in pool]
    busy = uow.slots.busy_intervals(
        trainer_ids,
        first_date=min(s.session_date for s in sessions) - timedelta(days=1),
        last_date=max(s.session_date for s in sessions),
        ignoring_session_ids=ignoring_session_ids,
    )
    judged = judge_availability(
        pool,
        sessions=sessions,
        busy_by_trainer=busy,
        active_assignments=uow.purchases.active_assignment_counts(trainer_ids),
    )
    unreadable = tuple(
        Rejection(t, RejectionReason.RECORD_UNAVAILABLE, "the directory record could not be read")
        for t in candidates.unreadable_trainer_ids
    )
    own = sorted(qualified.rejections + judged.rejections + unreadable, key=lambda r: r.trainer_id)
    decision = AssignmentDecision(
        zone=zone,
        ranked_trainer_ids=tuple(t.trainer_id for t in judged.ranked),
        rejections=tuple(own),
        zone_rejections=placement.rejections,
        candidate_query=candidates.query,
    )
    return RankedChoice(decision, {t.trainer_id: t.candidate.max_active_purchases for t in pool})
