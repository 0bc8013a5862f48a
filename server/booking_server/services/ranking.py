"""Which trainers may take given stored sessions of a purchase: rules 1-7 and the ranking of
1.6 for those sessions only (product 4.2, 4.3, 5).

Used by RescheduleSession (one session at its new time), SubstituteTrainer (the rest of a
course) and the waitlist promotion (every session of a waiting purchase). The sessions' own
slots are left out of the calendars: a session does not conflict with itself.
services/reservation.py then tries the ranked trainers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from booking_server.domain.eligibility import judge_availability, qualify_candidates
from booking_server.domain.model import Zone
from booking_server.domain.purchase import AssignmentDecision, StoredPurchase, StoredSession
from booking_server.services.ports.directory import CandidateList
from booking_server.services.reservation import RankedChoice
from booking_server.services.unit_of_work import UnitOfWork


def rank_for_sessions(
    uow: UnitOfWork,
    *,
    candidates: CandidateList,
    zone: Zone,
    purchase: StoredPurchase,
    sessions: Sequence[StoredSession],
    excluded: frozenset[str] = frozenset(),
) -> RankedChoice:
    placement = candidates.placement_for(zone)
    qualified = qualify_candidates(
        placement.passed, zone=zone, course_id=purchase.course_id, student_location=purchase.student_location
    )
    pool = [t for t in qualified.passed if t.trainer_id not in excluded]
    trainer_ids = [t.trainer_id for t in pool]
    busy = uow.slots.busy_intervals(
        trainer_ids,
        first_date=min(s.session_date for s in sessions) - timedelta(days=1),
        last_date=max(s.session_date for s in sessions),
        ignoring_session_ids=[s.session_id for s in sessions],
    )
    judged = judge_availability(
        pool,
        sessions=[s.as_scheduled() for s in sessions],
        busy_by_trainer=busy,
        active_assignments=uow.purchases.active_assignment_counts(trainer_ids),
    )
    own = sorted(qualified.rejections + judged.rejections, key=lambda r: r.trainer_id)
    decision = AssignmentDecision(
        zone=zone,
        ranked_trainer_ids=tuple(t.trainer_id for t in judged.ranked),
        rejections=tuple(own),
        zone_rejections=placement.rejections,
    )
    return RankedChoice(decision, {t.trainer_id: t.candidate.max_active_purchases for t in pool})
