"""Trainer eligibility and ranking (product.md 1.5 and 1.6).

Each candidate is checked against the rules in the contract's order and only the first
failing rule is reported, so the decision can be explained to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from booking_server.domain.geo import haversine_km

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from booking_server.domain.model import (
        BusyInterval,
        GeoPoint,
        ScheduledSession,
        TrainerCandidate,
        Zone,
    )

MAX_CERTIFICATIONS = 3


class RejectionReason(StrEnum):
    """Why a candidate was not eligible; the values are the contract's reason strings."""

    INACTIVE = "INACTIVE"
    WRONG_OPERATOR = "WRONG_OPERATOR"
    WRONG_FRANCHISE = "WRONG_FRANCHISE"
    WRONG_ZONE = "WRONG_ZONE"
    OUT_OF_TRAVEL_RANGE = "OUT_OF_TRAVEL_RANGE"
    NOT_CERTIFIED = "NOT_CERTIFIED"
    TOO_MANY_CERTIFICATIONS = "TOO_MANY_CERTIFICATIONS"
    SCHEDULE_CONFLICT = "SCHEDULE_CONFLICT"
    LOAD_CAP = "LOAD_CAP"
    # The two below are decided by the use case (reservation, directory), not here.
    SLOT_TAKEN_CONCURRENTLY = "SLOT_TAKEN_CONCURRENTLY"
    RECORD_UNAVAILABLE = "RECORD_UNAVAILABLE"


# A failed rule: the reason and its human-readable detail.
_Failure = tuple[RejectionReason, str]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected candidate with the first rule it failed and a short explanation."""

    trainer_id: str
    reason: RejectionReason
    detail: str


@dataclass(frozen=True, slots=True)
class RankedTrainer:
    """An eligible trainer; `distance_km` is None when the trainer has no location."""

    trainer_id: str
    distance_km: float | None
    active_assignments: int


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    """Eligible trainers in the order to try them, and every rejection (by trainer id)."""

    ranked: tuple[RankedTrainer, ...]
    rejections: tuple[Rejection, ...]


def intervals_overlap(a: BusyInterval, b: BusyInterval) -> bool:
    """Whether two half-open intervals share a minute; touching ones do not overlap."""
    if a.start_minute >= a.end_minute or b.start_minute >= b.end_minute:
        return False  # an empty interval occupies nothing
    return a.start_minute < b.end_minute and b.start_minute < a.end_minute


def first_conflicting_session(
    sessions: Iterable[ScheduledSession], busy: Iterable[BusyInterval]
) -> ScheduledSession | None:
    """The chronologically first session that overlaps any busy interval, or None."""
    return Calendar(busy).first_conflict(sessions)


class Calendar:
    """A trainer's busy intervals merged once, to check many schedules against (rule 6).

    A check sorts the sessions and sweeps once, O((n + m) log n), because a trainer with a long
    history has thousands of slots against up to a hundred sessions.
    """

    def __init__(self, busy: Iterable[BusyInterval]) -> None:
        self._starts, self._ends = _merged(busy)

    def first_conflict(self, sessions: Iterable[ScheduledSession]) -> ScheduledSession | None:
        """The chronologically first session that overlaps a busy interval, or None."""
        starts, ends = self._starts, self._ends
        if not starts:
            return None
        timed = sorted(
            ((s.start_minute, s.end_minute, s) for s in sessions),
            key=lambda item: (item[0], item[2].session_number),
        )
        index = 0
        for start, end, session in timed:
            if end <= start:
                continue  # an empty session occupies nothing
            # Merged intervals are disjoint and sorted, and session starts only grow, so an
            # interval that ended before this session cannot touch any later one either.
            while index < len(ends) and ends[index] <= start:
                index += 1
            if index == len(ends):
                return None
            if starts[index] < end:
                return session
        return None


def _merged(busy: Iterable[BusyInterval]) -> tuple[list[int], list[int]]:
    """Union of the intervals as sorted disjoint [start, end) runs (starts, ends)."""
    starts: list[int] = []
    ends: list[int] = []
    non_empty = (b for b in busy if b.end_minute > b.start_minute)
    for interval in sorted(non_empty, key=lambda b: b.start_minute):
        # Joining touching runs keeps the union unchanged, so overlap answers stay exact.
        if ends and interval.start_minute <= ends[-1]:
            ends[-1] = max(ends[-1], interval.end_minute)
        else:
            starts.append(interval.start_minute)
            ends.append(interval.end_minute)
    return starts, ends


def rank(trainers: Iterable[RankedTrainer]) -> tuple[RankedTrainer, ...]:
    """Nearest first, trainers without a location last; ties by load, then id (1.6)."""
    return tuple(
        sorted(
            trainers,
            key=lambda t: (
                t.distance_km is None,
                t.distance_km if t.distance_km is not None else 0.0,
                t.active_assignments,
                t.trainer_id,
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class Screening:
    """Rules 1-3 applied: who may still be eligible, and who is already rejected."""

    passed: tuple[TrainerCandidate, ...]
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class QualifiedTrainer:
    """A candidate that passed rules 1-5, with its distance to the student (None: no location)."""

    candidate: TrainerCandidate
    distance_km: float | None

    @property
    def trainer_id(self) -> str:
        return self.candidate.trainer_id


@dataclass(frozen=True, slots=True)
class Qualification:
    """Rules 4-5 applied to the placed candidates."""

    passed: tuple[QualifiedTrainer, ...]
    rejections: tuple[Rejection, ...]


# Rules 1-7 run as three passes, each candidate meeting each rule once:
#   place_candidates (1-3: the zone alone decides; cached per zone with a cached candidate list)
#   -> qualify_candidates (4-5: the student's place and the course; distances computed here)
#   -> judge_availability (6-7: calendars and loads, read only for who passed 1-5; then ranking).
# evaluate_candidates runs the three in a row for a caller that has everything at hand.


def evaluate_candidates(
    *,
    candidates: Sequence[TrainerCandidate],
    zone: Zone,
    course_id: str,
    student_location: GeoPoint,
    sessions: Sequence[ScheduledSession],
    busy_by_trainer: Mapping[str, Sequence[BusyInterval]],
    active_assignments: Mapping[str, int],
) -> EligibilityResult:
    """Rules 1-7 and the ranking: ranked eligible trainers, and every rejection by trainer id.

    A trainer listed twice (the directory pages may overlap) is judged once.
    """
    placed = place_candidates(candidates, zone)
    qualified = qualify_candidates(
        placed.passed, zone=zone, course_id=course_id, student_location=student_location
    )
    judged = judge_availability(
        qualified.passed,
        sessions=sessions,
        busy_by_trainer=busy_by_trainer,
        active_assignments=active_assignments,
    )
    rejections = placed.rejections + qualified.rejections + judged.rejections
    return EligibilityResult(judged.ranked, tuple(sorted(rejections, key=lambda r: r.trainer_id)))


def place_candidates(candidates: Sequence[TrainerCandidate], zone: Zone) -> Screening:
    """Rules 1-3 (active, operator, home zone), which depend on the zone and not on the student.

    Also drops repeated candidates. Rejections are ordered by trainer id.
    """
    passed: list[TrainerCandidate] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.trainer_id in seen:
            continue
        seen.add(candidate.trainer_id)
        failure = _placement_failure(candidate, zone)
        if failure is None:
            passed.append(candidate)
        else:
            rejections.append(Rejection(candidate.trainer_id, failure[0], failure[1]))
    rejections.sort(key=lambda r: r.trainer_id)
    return Screening(passed=tuple(passed), rejections=tuple(rejections))


def qualify_candidates(
    placed: Sequence[TrainerCandidate], *, zone: Zone, course_id: str, student_location: GeoPoint
) -> Qualification:
    """Rules 4-5 (travel range, certification) for candidates that passed place_candidates."""
    passed: list[QualifiedTrainer] = []
    rejections: list[Rejection] = []
    for candidate in placed:
        distance_km = (
            haversine_km(student_location, candidate.location) if candidate.location is not None else None
        )
        failure = _qualification_failure(candidate, zone, course_id, distance_km)
        if failure is None:
            passed.append(QualifiedTrainer(candidate, distance_km))
        else:
            rejections.append(Rejection(candidate.trainer_id, failure[0], failure[1]))
    return Qualification(passed=tuple(passed), rejections=tuple(rejections))


def judge_availability(
    qualified: Sequence[QualifiedTrainer],
    *,
    sessions: Sequence[ScheduledSession],
    busy_by_trainer: Mapping[str, Sequence[BusyInterval]],
    active_assignments: Mapping[str, int],
) -> EligibilityResult:
    """Rules 6-7 (free for every session, below the load cap), then the ranking of 1.6."""
    eligible: list[RankedTrainer] = []
    rejections: list[Rejection] = []
    for trainer in qualified:
        load = active_assignments.get(trainer.trainer_id, 0)
        busy = busy_by_trainer.get(trainer.trainer_id, ())
        failure = _availability_failure(trainer.candidate, sessions, busy, load)
        if failure is None:
            eligible.append(RankedTrainer(trainer.trainer_id, trainer.distance_km, load))
        else:
            rejections.append(Rejection(trainer.trainer_id, failure[0], failure[1]))
    return EligibilityResult(ranked=rank(eligible), rejections=tuple(rejections))


def _describe_operator(franchise_id: str | None) -> str:
    return f"franchise {franchise_id}" if franchise_id else "company"


def _operator_failure(candidate: TrainerCandidate, zone: Zone) -> _Failure | None:
    # "" and None both mean company: converters may pass either for an empty proto field.
    trainer_franchise = candidate.franchise_id or None
    zone_franchise = zone.franchise_id or None
    if trainer_franchise == zone_franchise:
        return None
    detail = (
        f"trainer is {_describe_operator(trainer_franchise)}, zone is {_describe_operator(zone_franchise)}"
    )
    if trainer_franchise is None or zone_franchise is None:
        return RejectionReason.WRONG_OPERATOR, detail
    return RejectionReason.WRONG_FRANCHISE, detail


def _placement_failure(candidate: TrainerCandidate, zone: Zone) -> _Failure | None:
    """Rules 1-3: active, same operator, same home zone."""
    if not candidate.active:
        return RejectionReason.INACTIVE, "trainer is inactive"
    operator = _operator_failure(candidate, zone)
    if operator is not None:
        return operator
    if candidate.zone_id and candidate.zone_id != zone.zone_id:
        return (
            RejectionReason.WRONG_ZONE,
            f"trainer's home zone is {candidate.zone_id}, zone is {zone.zone_id}",
        )
    return None


def _qualification_failure(
    candidate: TrainerCandidate, zone: Zone, course_id: str, distance_km: float | None
) -> _Failure | None:
    """Rules 4-5: travel range, then certification."""
    if distance_km is not None and distance_km > zone.radius_km:
        return (
            RejectionReason.OUT_OF_TRAVEL_RANGE,
            f"trainer is {distance_km:.2f} km away, zone radius is {zone.radius_km:g} km",
        )
    # Duplicates in the directory's list are one certification, not several.
    courses = set(candidate.certified_course_ids)
    if course_id not in courses:
        return RejectionReason.NOT_CERTIFIED, f"trainer is not certified for course {course_id}"
    if len(courses) > MAX_CERTIFICATIONS:
        return (
            RejectionReason.TOO_MANY_CERTIFICATIONS,
            f"trainer is certified for {len(courses)} courses, at most {MAX_CERTIFICATIONS}",
        )
    return None


def _availability_failure(
    candidate: TrainerCandidate,
    sessions: Sequence[ScheduledSession],
    busy: Sequence[BusyInterval],
    load: int,
) -> _Failure | None:
    """Rules 6-7: what the trainer's calendar and current load decide."""
    conflict = first_conflicting_session(sessions, busy)
    if conflict is not None:
        return (
            RejectionReason.SCHEDULE_CONFLICT,
            f"{conflict.session_date.isoformat()} {conflict.session_time} "
            f"session {conflict.session_number} overlaps a booked or blocked slot",
        )
    return load_cap_failure(candidate, load)


def load_cap_failure(candidate: TrainerCandidate, load: int) -> _Failure | None:
    """Rule 7: below the load cap the directory gives (0: no cap)."""
    cap = candidate.max_active_purchases
    if cap > 0 and load >= cap:
        return RejectionReason.LOAD_CAP, f"trainer has {load} active purchases, cap is {cap}"
    return None
