"""Trainer directory use cases: GetTrainer, BatchGetTrainers, ListTrainers, UpsertTrainer, DeleteTrainer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from booking_server.domain.errors import NotFoundError
from booking_server.domain.trainer_rules import (
    TRAINER_NOT_FOUND,
    TrainerDraft,
    TrainerRecord,
    validate_trainer,
    validate_trainer_id,
    validate_trainer_ids,
    validate_trainer_list,
)
from booking_server.services.ports.capacity_events import CapacityCause
from booking_server.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TrainerPage:
    """One page of ListTrainers; `next_page_token` is "" on the last page."""

    trainers: tuple[TrainerRecord, ...]
    next_page_token: str


class TrainerService:
    """Directory use cases; each opens its own unit of work."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    def get_trainer(self, trainer_id: str) -> TrainerRecord:
        """One trainer; NotFoundError TRAINER_NOT_FOUND when unknown."""
        key = validate_trainer_id(trainer_id)
        with self._uow_factory() as uow:
            record = uow.trainers.get(key)
        if record is None:
            raise _trainer_not_found([key])
        return record

    def batch_get_trainers(self, trainer_ids: Sequence[str]) -> list[TrainerRecord]:
        """Trainers in request order; one unknown id fails the whole call (TRAINER_NOT_FOUND)."""
        keys = validate_trainer_ids(trainer_ids)
        if not keys:
            return []
        with self._uow_factory() as uow:
            found = {record.trainer.trainer_id: record for record in uow.trainers.get_many(sorted(set(keys)))}
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            raise _trainer_not_found(missing)
        return [found[key] for key in keys]

    def list_trainers(
        self,
        *,
        course_id: str = "",
        active_only: bool = False,
        franchise_id: str = "",
        company_only: bool = False,
        zone_id: str = "",
        include_without_zone: bool = False,
        page_size: int = 0,
        page_token: str = "",
    ) -> TrainerPage:
        """One page of matching trainers by trainer_id."""
        query = validate_trainer_list(
            course_id=course_id,
            active_only=active_only,
            franchise_id=franchise_id,
            company_only=company_only,
            zone_id=zone_id,
            include_without_zone=include_without_zone,
            page_size=page_size,
            page_token=page_token,
        )
        with self._uow_factory() as uow:
            # One row more than the page tells whether another page follows, without a COUNT.
            records = uow.trainers.list_page(query, limit=query.page_size + 1)
        page = tuple(records[: query.page_size])
        more = len(records) > query.page_size
        token = query.next_page_token(page[-1].trainer.trainer_id) if more else ""
        return TrainerPage(trainers=page, next_page_token=token)

    def upsert_trainer(self, draft: TrainerDraft) -> TrainerRecord:
        """Create or replace a trainer, its certified courses included."""
        trainer = validate_trainer(draft)
        with self._uow_factory() as uow:
            record = uow.trainers.upsert(trainer)
            if trainer.active:  # added, activated, certified, moved or given a higher cap: maybe room
                uow.capacity_events.record(CapacityCause.TRAINER_CHANGED, trainer_ids=[trainer.trainer_id])
            uow.commit()
        log.info("trainer_upserted", trainer_id=trainer.trainer_id, courses=len(trainer.certified_course_ids))
        return record

    def delete_trainer(self, trainer_id: str) -> None:
        """Delete a trainer; NotFoundError TRAINER_NOT_FOUND when unknown."""
        key = validate_trainer_id(trainer_id)
        with self._uow_factory() as uow:
            if not uow.trainers.delete(key):
                raise _trainer_not_found([key])
            uow.commit()
        log.info("trainer_deleted", trainer_id=key)


def _trainer_not_found(trainer_ids: Sequence[str]) -> NotFoundError:
    # Ids are not personal data; naming them tells the caller which ones to fix.
    shown = ", ".join(trainer_ids[:10]) + (" ..." if len(trainer_ids) > 10 else "")
    noun = "trainer" if len(trainer_ids) == 1 else "trainers"
    return NotFoundError(f"{noun} not found: {shown}", reason=TRAINER_NOT_FOUND)
