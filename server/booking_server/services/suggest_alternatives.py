"""Use case: SuggestAlternatives (product.md section 7). Writes nothing.

The cost stays close to one dry run whatever the window: the same validation, one zone lookup,
one directory read, rules 1-5 once (they do not depend on the date or time), one calendar read
and one load read covering every candidate; then, per candidate schedule in rank order, the
first trainer in the ranking of 1.6 whose calendar is free for every session (rule 6; rule 7
does not depend on the schedule). The search stops at `max_results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from booking_server.domain.alternatives import Candidate, SearchBounds, candidate_grid, check_bounds
from booking_server.domain.eligibility import (
    Calendar,
    RankedTrainer,
    load_cap_failure,
    qualify_candidates,
    rank,
)
from booking_server.domain.errors import FieldViolation, InvalidRequestError, require_no_violations
from booking_server.domain.model import PurchaseStatus, ScheduledSession, Zone
from booking_server.domain.purchase import SERVICE_NOT_AVAILABLE_MESSAGE
from booking_server.domain.purchase_rules import check_purchase_rules
from booking_server.domain.schedule import generate_schedule
from booking_server.domain.validation import (
    AssignmentRequest,
    AssignTrainerCommand,
    validate_assignment_request,
)
from booking_server.services.assign_trainer import ZoneFinder
from booking_server.services.clock import Clock
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
    directory_unavailable,
)
from booking_server.services.unit_of_work import UnitOfWorkFactory
from booking_server.services.zones import find_serving_zone_in


@dataclass(frozen=True, slots=True)
class Alternative:
    start_date: date
    time_slot: str
    trainer_id: str
    distance_km: float | None  # None: the trainer has no location


@dataclass(frozen=True, slots=True)
class Suggestions:
    alternatives: tuple[Alternative, ...] = ()
    # Set when no schedule can help: INVALID_PURCHASE or SERVICE_NOT_AVAILABLE, with why.
    status: PurchaseStatus | None = None
    message: str = ""


class SuggestAlternatives:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        directory: TrainerDirectory,
        clock: Clock,
        find_zone: ZoneFinder = find_serving_zone_in,
    ) -> None:
        self._uow_factory = uow_factory
        self._directory = directory
        self._clock = clock
        self._find_zone = find_zone

    def __call__(
        self,
        request: AssignmentRequest,
        *,
        max_results: int,
        window_days: int,
        budget_seconds: float | None = None,
    ) -> Suggestions:
        command, bounds = self._validated(request, max_results, window_days)
        rule_failure = check_purchase_rules(
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
            total_sessions=command.total_sessions,
            student_count=len(command.students),
        )
        if rule_failure is not None:
            return Suggestions(status=PurchaseStatus.INVALID_PURCHASE, message=rule_failure)
        with self._uow_factory() as uow:
            found = self._find_zone(uow, command.student_location)
        if found is None:
            return Suggestions(
                status=PurchaseStatus.SERVICE_NOT_AVAILABLE, message=SERVICE_NOT_AVAILABLE_MESSAGE
            )
        try:
            candidates = self._directory.list_candidates(
                command.course_id, found[0], budget_seconds=budget_seconds
            )
        except TrainerDirectoryUnavailableError as exc:
            raise directory_unavailable() from exc
        return Suggestions(self._search(command, bounds, found[0], candidates))

    def _validated(
        self, request: AssignmentRequest, max_results: int, window_days: int
    ) -> tuple[AssignTrainerCommand, SearchBounds]:
        """Every problem at once: the request's (as AutoAssignTrainer checks them) and the bounds'."""
        violations: list[FieldViolation] = []
        bounds = check_bounds(max_results, window_days, violations)
        try:
            command = validate_assignment_request(request, today=self._clock.today())
        except InvalidRequestError as error:
            raise InvalidRequestError([*error.violations, *violations]) from None
        require_no_violations(violations)
        return command, bounds

    def _search(
        self, command: AssignTrainerCommand, bounds: SearchBounds, zone: Zone, candidates: CandidateList
    ) -> tuple[Alternative, ...]:
        grid = candidate_grid(
            start_date=command.start_date,
            time_slot=command.preferred_time_slot,
            window_days=bounds.window_days,
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
        )
        # The calendars cover every candidate: from the day before the first start to the day
        # after the latest candidate's last session (a session may end after midnight).
        latest = max(grid, key=lambda c: (c.start_date, c.time_slot))
        first = command.start_date - timedelta(days=1)
        last = self._schedule(command, latest)[-1].session_date + timedelta(days=1)
        pool, calendars = self._ranked_pool(command, zone, candidates, first=first, last=last)
        found: list[Alternative] = []
        seen: set[tuple[date, str]] = set()
        for candidate in grid:
            sessions = self._schedule(command, candidate)
            # Start dates that give the same schedule (SUNDAY_ONLY) are one alternative: the nearest.
            if (sessions[0].session_date, sessions[0].session_time) in seen:
                continue
            seen.add((sessions[0].session_date, sessions[0].session_time))
            trainer = next(
                (t for t in pool if calendars[t.trainer_id].first_conflict(sessions) is None), None
            )
            if trainer is not None:
                found.append(
                    Alternative(
                        candidate.start_date, candidate.time_slot, trainer.trainer_id, trainer.distance_km
                    )
                )
                if len(found) == bounds.max_results:
                    break
        return tuple(found)

    def _ranked_pool(
        self,
        command: AssignTrainerCommand,
        zone: Zone,
        candidates: CandidateList,
        *,
        first: date,
        last: date,
    ) -> tuple[tuple[RankedTrainer, ...], dict[str, Calendar]]:
        """Rules 1-5 and 7 (the same for every candidate schedule), ranked, with their calendars."""
        qualified = qualify_candidates(
            candidates.placement_for(zone).passed,
            zone=zone,
            course_id=command.course_id,
            student_location=command.student_location,
        )
        trainer_ids = [t.trainer_id for t in qualified.passed]
        with self._uow_factory() as uow:
            busy = uow.slots.busy_intervals(trainer_ids, first_date=first, last_date=last)
            loads = uow.purchases.active_assignment_counts(trainer_ids)
        under_cap = [
            t for t in qualified.passed if load_cap_failure(t.candidate, loads.get(t.trainer_id, 0)) is None
        ]
        pool = rank(RankedTrainer(t.trainer_id, t.distance_km, loads.get(t.trainer_id, 0)) for t in under_cap)
        return pool, {t.trainer_id: Calendar(busy.get(t.trainer_id, ())) for t in pool}

    @staticmethod
    def _schedule(command: AssignTrainerCommand, candidate: Candidate) -> tuple[ScheduledSession, ...]:
        return generate_schedule(
            class_type=command.class_type,
            delivery_mode=command.delivery_mode,
            total_sessions=command.total_sessions,
            start_date=candidate.start_date,
            time_slot=candidate.time_slot,
        )
