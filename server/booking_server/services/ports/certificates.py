"""Port: what the use cases need from storage for certificates."""

from __future__ import annotations

from typing import Protocol


class CertificateRepository(Protocol):
    """Storage of certificates; implemented in booking_server.db.repositories.certificates."""
