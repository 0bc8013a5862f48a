"""Port: the stored decision of each assignment, so that a replay answers as the first call did."""

from __future__ import annotations

from typing import Protocol

from booking_server.domain.purchase import AssignmentDecision


class DecisionRepository(Protocol):
    def save(self, purchase_id: str, decision: AssignmentDecision) -> None:
        """Store the decision the first call answered with (once per purchase)."""
        ...

    def get(self, purchase_id: str) -> AssignmentDecision | None:
        """The stored decision; None for a purchase stored without one."""
        ...
