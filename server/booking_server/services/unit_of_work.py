"""The unit-of-work port: one transaction per use case, rollback unless committed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from booking_server.domain.errors import ConflictError, DeadlineExceededError, DomainError, UnavailableError
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

if TYPE_CHECKING:
    from booking_server.services.conflict_retry import Deadline


class TransactionConflictError(ConflictError):
    """The database aborted the transaction: a deadlock, a serialization failure, or a lock
    not granted within the transaction's lock wait limit.

    Nothing was committed; retrying the whole use case is safe. Use cases that can retry do;
    a conflict that reaches a caller is ABORTED, which gRPC clients treat as retryable.
    """


# Failures after which nothing more can happen in the transaction: it is gone or must be retried.
TRANSACTION_ENDED: tuple[type[DomainError], ...] = (
    TransactionConflictError,
    UnavailableError,
    DeadlineExceededError,
)


class Savepoint(Protocol):
    def rollback(self) -> None:
        """Undo the work done since the savepoint; the enclosing transaction goes on."""
        ...


class UnitOfWork(Protocol):
    """A transaction and the repositories that work inside it."""

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

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def limit_waits(self, deadline: Deadline) -> None:
        """Bound the rest of this transaction by the caller's deadline.

        A lock not granted in time is a TransactionConflictError (retried while time remains);
        a statement still running when the deadline passes is cancelled by the database
        (DeadlineExceededError), so no work outlives the caller who asked for it.
        """
        ...

    def savepoint(self) -> AbstractContextManager[Savepoint]:
        """A nested transaction: undone alone if the block raises or calls rollback().

        A failure that ends the whole transaction (a lost connection, a conflict, the deadline)
        is raised as one of TRANSACTION_ENDED: the enclosing work cannot go on either.
        """
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
