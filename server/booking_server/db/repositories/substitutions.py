"""SQL for substitutions: implements services.ports.substitutions.SubstitutionRepository."""

from __future__ import annotations

from sqlalchemy import Connection, text

from booking_server.db.repositories.decisions import decision_from_json, decision_to_json
from booking_server.services.ports.substitutions import StoredSubstitution

_SAVE = text(
    "INSERT INTO purchase_substitutions (purchase_id, request_fingerprint, trainer_id, moved_session_ids, "
    "decision) VALUES (:purchase_id, :fingerprint, :trainer_id, CAST(:moved AS uuid[]), "
    "CAST(:decision AS jsonb))"
)
_LATEST = text(
    "SELECT purchase_id::text, request_fingerprint, trainer_id::text, moved_session_ids::text[], decision "
    "FROM purchase_substitutions WHERE purchase_id = :purchase_id ORDER BY created_at DESC, id DESC LIMIT 1"
)


class SqlSubstitutionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def save(self, substitution: StoredSubstitution) -> None:
        self._conn.execute(
            _SAVE,
            {
                "purchase_id": substitution.purchase_id,
                "fingerprint": substitution.request_fingerprint,
                "trainer_id": substitution.trainer_id,
                "moved": list(substitution.moved_session_ids),
                "decision": decision_to_json(substitution.decision),
            },
        )

    def latest(self, purchase_id: str) -> StoredSubstitution | None:
        row = self._conn.execute(_LATEST, {"purchase_id": purchase_id}).first()
        if row is None:
            return None
        purchase, fingerprint, trainer_id, moved, decision = row
        return StoredSubstitution(
            purchase, fingerprint, trainer_id, tuple(moved), decision_from_json(decision)
        )
