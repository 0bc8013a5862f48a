"""Port: the answers of SubstituteTrainer, so that a repeated call answers as the first did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booking_server.domain.purchase import AssignmentDecision


@dataclass(frozen=True, slots=True)
class StoredSubstitution:
    purchase_id: str
    request_fingerprint: str  # what the caller asked: from_date, trainer_id, reason
    trainer_id: str  # who took the sessions
    moved_session_ids: tuple[str, ...]
    decision: AssignmentDecision


class SubstitutionRepository(Protocol):
    def save(self, substitution: StoredSubstitution) -> None: ...

    def latest(self, purchase_id: str) -> StoredSubstitution | None:
        """The purchase's most recent substitution, if any."""
        ...
