"""Port: what the use cases need from storage for read model."""

from __future__ import annotations

from typing import Protocol


class ReadModelRepository(Protocol):
    """Storage of read model; implemented in booking_server.db.repositories.read_model."""
