"""SQL for stored assignment decisions: implements services.ports.decisions.DecisionRepository.

Compact JSON: rejections as [trainer_id, reason, detail] triples, the zone as it was when the
decision was made (a replay after the zone changed still answers with the original decision).
PostgreSQL compresses the value when it is large, and only replays ever read it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from booking_server.domain.eligibility import Rejection, RejectionReason
from booking_server.domain.model import CandidateQuery, GeoPoint, Zone
from booking_server.domain.purchase import AssignmentDecision

_SAVE = text(
    "INSERT INTO purchase_decisions (purchase_id, decision) VALUES (:purchase_id, CAST(:decision AS jsonb))"
)
_GET = text("SELECT decision FROM purchase_decisions WHERE purchase_id = :purchase_id")


def _zone_to_json(zone: Zone) -> list[Any]:
    return [
        zone.zone_id,
        zone.name,
        zone.franchise_id,
        zone.center.latitude,
        zone.center.longitude,
        zone.radius_km,
        zone.active,
    ]


def _zone_from_json(values: list[Any]) -> Zone:
    zone_id, name, franchise_id, latitude, longitude, radius_km, active = values
    return Zone(zone_id, name, franchise_id, GeoPoint(latitude, longitude), radius_km, active)


def _rejections_to_json(rejections: tuple[Rejection, ...]) -> list[list[str]]:
    return [[r.trainer_id, r.reason.value, r.detail] for r in rejections]


def _rejections_from_json(values: list[list[str]]) -> tuple[Rejection, ...]:
    return tuple(Rejection(t, RejectionReason(reason), detail) for t, reason, detail in values)


def _query_to_json(query: CandidateQuery) -> list[Any]:
    return [query.course_id, query.zone_id, query.franchise_id, query.trainers_returned]


def _query_from_json(values: list[Any] | None) -> CandidateQuery | None:
    """None for decisions stored before the directory was asked per zone (no "query" key)."""
    return None if values is None else CandidateQuery(*values)


def decision_to_json(decision: AssignmentDecision) -> str:
    value: dict[str, Any] = {
        "zone": None if decision.zone is None else _zone_to_json(decision.zone),
        "ranked": list(decision.ranked_trainer_ids),
        "rejections": _rejections_to_json(decision.rejections),
        "zone_rejections": _rejections_to_json(decision.zone_rejections),
    }
    if decision.candidate_query is not None:
        value["query"] = _query_to_json(decision.candidate_query)
    return json.dumps(value, separators=(",", ":"))


def decision_from_json(value: dict[str, Any]) -> AssignmentDecision:
    return AssignmentDecision(
        zone=None if value["zone"] is None else _zone_from_json(value["zone"]),
        ranked_trainer_ids=tuple(value["ranked"]),
        rejections=_rejections_from_json(value["rejections"]),
        zone_rejections=_rejections_from_json(value["zone_rejections"]),
        candidate_query=_query_from_json(value.get("query")),
    )


class SqlDecisionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def save(self, purchase_id: str, decision: AssignmentDecision) -> None:
        self._conn.execute(_SAVE, {"purchase_id": purchase_id, "decision": decision_to_json(decision)})

    def get(self, purchase_id: str) -> AssignmentDecision | None:
        value = self._conn.execute(_GET, {"purchase_id": purchase_id}).scalar_one_or_none()
        return None if value is None else decision_from_json(value)
