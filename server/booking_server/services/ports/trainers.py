"""Port: what the use cases need from storage for trainers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from booking_server.domain.trainer_rules import TrainerListQuery, TrainerProfile, TrainerRecord


class TrainerRepository(Protocol):
    """Storage of the trainer directory; implemented in booking_server.db.repositories.trainers."""

    def get(self, trainer_id: str) -> TrainerRecord | None:
        """One trainer by (lower-case) id."""
        ...

    def get_many(self, trainer_ids: Sequence[str]) -> list[TrainerRecord]:
        """The known trainers among the ids, in no particular order, each once."""
        ...

    def list_page(self, query: TrainerListQuery, *, limit: int) -> list[TrainerRecord]:
        """Up to `limit` trainers matching the filters after `query.after_trainer_id`, by id."""
        ...

    def upsert(self, trainer: TrainerProfile) -> TrainerRecord:
        """Insert or replace the trainer and its whole set of certified courses."""
        ...

    def delete(self, trainer_id: str) -> bool:
        """Delete the trainer and its courses; False when there was none."""
        ...
