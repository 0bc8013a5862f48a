"""SQL for certificates: implements services.ports.certificates.CertificateRepository."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlCertificateRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
