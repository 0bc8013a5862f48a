"""SQLAlchemy unit of work: one connection, one transaction, repositories bound to it.

Repositories use SQLAlchemy Core on the connection: the hot paths are a handful of set-based
statements, and ORM identity-map bookkeeping would only cost time there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Self

import psycopg
from sqlalchemy import Connection, Engine, NestedTransaction, text
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from booking_server.call_scope import CallEndedError, current_scope
from booking_server.db.repositories.capacity_events import SqlCapacityEventRepository
from booking_server.db.repositories.certificates import SqlCertificateRepository
from booking_server.db.repositories.changes import SqlChangeLogRepository
from booking_server.db.repositories.decisions import SqlDecisionRepository
from booking_server.db.repositories.purchases import SqlPurchaseRepository
from booking_server.db.repositories.read_model import SqlReadModelRepository
from booking_server.db.repositories.slots import SqlSlotRepository
from booking_server.db.repositories.substitutions import SqlSubstitutionRepository
from booking_server.db.repositories.trainers import SqlTrainerRepository
from booking_server.db.repositories.zones import SqlZoneRepository
from booking_server.domain.errors import DeadlineExceededError, UnavailableError
from booking_server.services.ports.capacity_events import CapacityEventRepository
from booking_server.services.ports.certificates import CertificateRepository
from booking_server.services.ports.changes import ChangeLogRepository
from booking_server.services.ports.decisions import DecisionRepository
from booking_server.services.ports.purchases import PurchaseRepository
from booking_server.services.ports.read_model import ReadModelRepository
from booking_server.services.ports.slots import SlotRepository
from booking_server.services.ports.substitutions import SubstitutionRepository
from booking_server.services.ports.trainers import TrainerRepository
from booking_server.services.ports.zones import ZoneRepository
from booking_server.services.unit_of_work import TransactionConflictError

if TYPE_CHECKING:
    from booking_server.services.conflict_retry import Deadline


class DatabaseUnavailableError(UnavailableError):
    reason = "DATABASE_UNAVAILABLE"


# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction back for us;
# lock_not_available: a lock wait ran past limit_waits(). psycopg classes the first and
# the last as OperationalError, like a lost connection, so conflicts are classified first.
_CONFLICT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# query_canceled: statement_timeout (the caller's deadline, or the connection's own bound).
_CANCELED_SQLSTATE = "57014"
# One round trip for both bounds; a NULL statement bound keeps the connection's own.
_SET_WAITS = text(
    "SELECT set_config('lock_timeout', :lock, true),"
    " set_config('statement_timeout', coalesce(:statement, current_setting('statement_timeout')), true)"
)


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.orig, "sqlstate", None) if isinstance(exc, DBAPIError) else None


def _is_conflict(exc: BaseException) -> bool:
    return _sqlstate(exc) in _CONFLICT_SQLSTATES


def _is_connection_failure(exc: BaseException) -> bool:
    if _is_conflict(exc) or _sqlstate(exc) == _CANCELED_SQLSTATE:
        return False
    # PendingRollbackError: a statement after the connection was lost inside this transaction.
    if isinstance(exc, OperationalError | PoolTimeoutError | PendingRollbackError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _translate(exc: BaseException) -> None:
    """Raise the domain's view of a database failure; return for anything else.

    A conflict first (retried as a whole use case), then "the database went away"
    (UNAVAILABLE DATABASE_UNAVAILABLE instead of an internal error).
    """
    if _is_conflict(exc):
        raise TransactionConflictError("the transaction was aborted by a concurrent one") from exc
    if _sqlstate(exc) == _CANCELED_SQLSTATE:
        raise DeadlineExceededError("the request ran out of time; nothing was stored") from exc
    if _is_connection_failure(exc):
        raise DatabaseUnavailableError("database unavailable") from exc


def _milliseconds(seconds: float | None) -> str | None:
    return None if seconds is None else f"{max(1, round(seconds * 1000))}ms"


# A cancel request that cannot reach the database in this long is given up (the statement then
# ends at its own statement_timeout).
CANCEL_TIMEOUT_SECONDS = 2.0


def _interruptible(conn: Connection) -> contextlib.ExitStack:
    """While the transaction is open, the end of the call it serves cancels its running statement."""
    stack = contextlib.ExitStack()
    scope = current_scope()
    if scope is not None:
        driver = conn.connection.dbapi_connection
        if isinstance(driver, psycopg.Connection):
            stack.enter_context(
                scope.interruptible(partial(driver.cancel_safe, timeout=CANCEL_TIMEOUT_SECONDS))
            )
    return stack


class SqlUnitOfWork:
    # Typed as the ports: the use cases see only what the Protocols promise.
    zones: ZoneRepository
    trainers: TrainerRepository
    purchases: PurchaseRepository
    slots: SlotRepository
    read_model: ReadModelRepository
    certificates: CertificateRepository
    decisions: DecisionRepository
    substitutions: SubstitutionRepository
    capacity_events: CapacityEventRepository
    changes: ChangeLogRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._interruptible = contextlib.ExitStack()

    def _open(self) -> Connection:
        conn = self._engine.connect()
        conn.begin()
        return conn

    def __enter__(self) -> Self:
        try:
            conn = self._open()
        except Exception as exc:
            if _is_connection_failure(exc):
                raise DatabaseUnavailableError("database unavailable") from exc
            raise
        try:
            self._interruptible = _interruptible(conn)
        except CallEndedError as exc:
            self._close(conn)
            raise DeadlineExceededError("the call ended before its work began; nothing was stored") from exc
        self._conn = conn
        self.zones = SqlZoneRepository(conn)
        self.trainers = SqlTrainerRepository(conn)
        self.purchases = SqlPurchaseRepository(conn)
        self.slots = SqlSlotRepository(conn)
        self.read_model = SqlReadModelRepository(conn)
        self.certificates = SqlCertificateRepository(conn)
        self.decisions = SqlDecisionRepository(conn)
        self.substitutions = SqlSubstitutionRepository(conn)
        self.capacity_events = SqlCapacityEventRepository(conn)
        self.changes = SqlChangeLogRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # First: the connection must not go back to the pool while its statement is being cancelled.
        self._interruptible.close()
        try:
            self._close(conn)
        except Exception as rollback_exc:
            # A dead connection cannot roll back; the server already discarded the work.
            if not _is_connection_failure(rollback_exc):
                raise
        if exc is not None:
            _translate(exc)

    def _close(self, conn: Connection) -> None:
        try:
            conn.rollback()  # a no-op after commit(): nothing is kept unless committed
        finally:
            conn.close()

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    def commit(self) -> None:
        try:
            self.connection.commit()
        except Exception as exc:
            _translate(exc)
            raise

    def limit_waits(self, deadline: Deadline) -> None:
        statement = deadline.statement_seconds()
        self.connection.execute(
            _SET_WAITS,
            {"lock": _milliseconds(deadline.lock_wait_seconds()), "statement": _milliseconds(statement)},
        )

    def rollback(self) -> None:
        self.connection.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[NestedTransaction]:
        try:
            with self.connection.begin_nested() as nested:
                yield nested
        except Exception as exc:
            # A lost connection (or a conflict, or the deadline) ends the whole transaction,
            # not just the savepoint: say so, so that no caller goes on as if only it failed.
            _translate(exc)
            raise


class NestedUnitOfWork(SqlUnitOfWork):
    """A unit of work inside a transaction someone else owns (a test's outer transaction).

    Its "transaction" is a savepoint: commit releases it, exit without commit rolls it back,
    and the owner's final rollback undoes everything.
    """

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn.engine)
        self._outer = conn
        self._nested: NestedTransaction | None = None

    def _open(self) -> Connection:
        self._nested = self._outer.begin_nested()
        return self._outer

    def _close(self, conn: Connection) -> None:
        nested, self._nested = self._nested, None
        if nested is not None and nested.is_active:
            nested.rollback()

    def commit(self) -> None:
        if self._nested is not None and self._nested.is_active:
            self._nested.commit()
        self._nested = self._outer.begin_nested()

    def rollback(self) -> None:
        if self._nested is not None and self._nested.is_active:
            self._nested.rollback()
        self._nested = self._outer.begin_nested()
