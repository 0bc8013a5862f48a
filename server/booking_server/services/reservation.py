"""Trying ranked trainers in order until one takes the sessions (product 1.6, 4.2, 4.3).

Each try is one call of SlotRepository.reserve: all or nothing, load cap included, and a lost
try releases the trainer's lock before the next (docs/locking.md). A trainer lost meanwhile is
reported with why, after the decision's other rejections, in the order the trainers were tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from booking_server.domain.eligibility import Rejection, RejectionReason
from booking_server.domain.purchase import AssignmentDecision, StoredSession
from booking_server.services.ports.slots import Reservation
from booking_server.services.unit_of_work import UnitOfWork

_LOST = {
    Reservation.TAKEN: (RejectionReason.SLOT_TAKEN_CONCURRENTLY, "a slot was booked meanwhile"),
    Reservation.AT_LOAD_CAP: (RejectionReason.LOAD_CAP, "the trainer reached its cap meanwhile"),
}


@dataclass(frozen=True, slots=True)
class RankedChoice:
    decision: AssignmentDecision  # the zone, eligible trainers in rank order, every rejection
    load_caps: dict[str, int]  # per ranked trainer (0: no cap)


@dataclass(frozen=True, slots=True)
class Reserved:
    trainer_id: str | None  # who took the sessions; None: every ranked trainer was lost meanwhile
    decision: AssignmentDecision  # the choice's decision with the trainers lost meanwhile


def reserve_first_ranked(
    uow: UnitOfWork, choice: RankedChoice, *, purchase_id: str, sessions: Sequence[StoredSession]
) -> Reserved:
    lost: list[Rejection] = []
    for trainer_id in choice.decision.ranked_trainer_ids:
        reservation = uow.slots.reserve(
            trainer_id, purchase_id=purchase_id, sessions=sessions, load_cap=choice.load_caps[trainer_id]
        )
        if reservation is Reservation.BOOKED:
            return Reserved(trainer_id, _with_lost(choice.decision, lost))
        reason, detail = _LOST[reservation]
        lost.append(Rejection(trainer_id, reason, detail))
    return Reserved(None, _with_lost(choice.decision, lost))


def _with_lost(decision: AssignmentDecision, lost: list[Rejection]) -> AssignmentDecision:
    return replace(decision, rejections=decision.rejections + tuple(lost)) if lost else decision
