"""The TrainerDirectory port over gRPC: booking_client's stub, converted to domain candidates."""

from __future__ import annotations

from booking.v1 import common_pb2
from booking_client import DirectoryUnavailableError, TrainerDirectoryClient

from booking_server.domain.model import GeoPoint, TrainerCandidate
from booking_server.domain.validation import is_uuid
from booking_server.services.ports.directory import CandidateList, TrainerDirectoryUnavailableError


def _candidate(trainer: common_pb2.Trainer) -> TrainerCandidate | None:
    """None when the record is not usable (bad ids): only that trainer is excluded."""
    ids = [trainer.trainer_id, *trainer.certified_course_ids]
    optional_ids = [i for i in (trainer.franchise_id, trainer.zone_id) if i]
    if not all(is_uuid(i) for i in ids + optional_ids):
        return None
    return TrainerCandidate(
        trainer_id=trainer.trainer_id.lower(),
        active=trainer.active,
        franchise_id=trainer.franchise_id.lower() or None,
        zone_id=trainer.zone_id.lower() or None,
        certified_course_ids=tuple(c.lower() for c in trainer.certified_course_ids),
        location=GeoPoint(trainer.location.latitude, trainer.location.longitude) if trainer.has_location else None,
        max_active_purchases=max(trainer.max_active_purchases, 0),
    )


class GrpcTrainerDirectory:
    def __init__(self, client: TrainerDirectoryClient) -> None:
        self._client = client

    def list_candidates(self, course_id: str, *, budget_seconds: float | None) -> CandidateList:
        try:
            trainers = self._client.list_course_trainers(course_id, budget_seconds=budget_seconds)
        except DirectoryUnavailableError as exc:
            raise TrainerDirectoryUnavailableError(str(exc)) from exc
        candidates: list[TrainerCandidate] = []
        unreadable: list[str] = []
        for trainer in trainers:
            candidate = _candidate(trainer)
            if candidate is None:
                unreadable.append(trainer.trainer_id)
            else:
                candidates.append(candidate)
        return CandidateList(tuple(candidates), tuple(unreadable))
