"""Use cases: GetTrainerSchedule and BlockTrainerTime (time off)."""

from __future__ import annotations

from datetime import date

import structlog

from booking_server.domain.errors import (
    FailedPreconditionError,
    FieldViolation,
    NotFoundError,
    require_no_violations,
)
from booking_server.domain.lifecycle import check_reason
from booking_server.domain.slots import (
    EARLIEST_SLOT_DATE,
    MAX_BLOCK_MINUTES,
    MAX_SCHEDULE_WINDOW_DAYS,
    SlotStatus,
    TrainerSlot,
)
from booking_server.domain.validation import TIME_SLOT_PATTERN, parse_date_field, validate_uuid_field
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.ports.directory import (
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
    directory_unavailable,
)
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)


def _parse_date(value: str, field: str, violations: list[FieldViolation]) -> date | None:
    parsed = parse_date_field(value, field, violations)
    if parsed is not None and parsed < EARLIEST_SLOT_DATE:
        violations.append(FieldViolation(field, f"must be on or after {EARLIEST_SLOT_DATE.isoformat()}"))
        return None
    return parsed


class TrainerSchedule:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, directory: TrainerDirectory) -> None:
        self._uow_factory = uow_factory
        self._directory = directory

    def get(self, *, trainer_id: str, from_date: str, to_date: str) -> list[TrainerSlot]:
        violations: list[FieldViolation] = []
        validate_uuid_field(trainer_id, "trainer_id", violations)
        first = _parse_date(from_date, "from_date", violations)
        last = _parse_date(to_date, "to_date", violations)
        if first and last and not 0 <= (last - first).days < MAX_SCHEDULE_WINDOW_DAYS:
            violations.append(
                FieldViolation(
                    "to_date", f"must be on or after from_date, within {MAX_SCHEDULE_WINDOW_DAYS} days"
                )
            )
        require_no_violations(violations)
        assert first is not None  # a missing or bad date was reported above
        assert last is not None
        with self._uow_factory() as uow:
            return uow.slots.schedule(trainer_id.lower(), from_date=first, to_date=last)

    def block(
        self,
        *,
        trainer_id: str,
        day: str,
        start_time: str,
        duration_minutes: int,
        reason: str,
        budget_seconds: float | None = None,
    ) -> TrainerSlot:
        """Time off for a trainer the directory knows (active or not): TRAINER_NOT_FOUND otherwise."""
        violations: list[FieldViolation] = []
        validate_uuid_field(trainer_id, "trainer_id", violations)
        slot_date = _parse_date(day, "date", violations)
        if not TIME_SLOT_PATTERN.fullmatch(start_time):
            violations.append(FieldViolation("start_time", "must be HH:MM (24 h)"))
        if not 1 <= duration_minutes <= MAX_BLOCK_MINUTES:
            violations.append(
                FieldViolation("duration_minutes", f"must be between 1 and {MAX_BLOCK_MINUTES}")
            )
        check_reason(reason, violations)
        require_no_violations(violations)
        assert slot_date is not None  # guaranteed by the violations check
        self._require_known(trainer_id.lower(), budget_seconds)
        slot = TrainerSlot(
            trainer_id=trainer_id.lower(),
            slot_date=slot_date,
            start_time=start_time,
            duration_minutes=duration_minutes,
            status=SlotStatus.BLOCKED,
            reason=reason,
        )
        with self._uow_factory() as uow:
            stored = uow.slots.block(slot)
            if stored is None:
                raise FailedPreconditionError(
                    "the time overlaps a booked or blocked slot of the trainer", reason="SLOT_OVERLAP"
                )
            uow.commit()
        log.info("trainer_time_blocked", trainer_id=slot.trainer_id, date=day, start_time=start_time)
        return stored

    def _require_known(self, trainer_id: str, budget_seconds: float | None) -> None:
        """Asked before the transaction opens: no network call while holding a connection."""
        try:
            known = self._directory.get_candidate(trainer_id, budget_seconds=budget_seconds)
        except TrainerDirectoryUnavailableError as exc:
            raise directory_unavailable() from exc
        if known is None:
            raise NotFoundError("trainer not found", reason="TRAINER_NOT_FOUND")

    def unblock(self, *, slot_id: str) -> None:
        """Remove time off (product 4.4); the freed time is recorded for the waitlist promotion."""
        violations: list[FieldViolation] = []
        validate_uuid_field(slot_id, "slot_id", violations)
        require_no_violations(violations)
        with self._uow_factory() as uow:
            removed = uow.slots.unblock(slot_id.lower())
            if removed.was_booked:
                raise FailedPreconditionError(
                    "the slot is booked by a purchase session, not blocked", reason="SLOT_NOT_BLOCKED"
                )
            if removed.trainer_id is None:
                raise NotFoundError("slot not found", reason="SLOT_NOT_FOUND")
            uow.capacity_events.record(CapacityCause.TIME_UNBLOCKED, trainer_ids=[removed.trainer_id])
            uow.commit()
        log.info("trainer_time_unblocked", trainer_id=removed.trainer_id, slot_id=slot_id.lower())
