"""The work done for one call, interruptible when the call ends early.

A gRPC caller that cancels (or whose deadline passes) is gone: the rpc layer opens a scope per
call and cancels it when gRPC reports the call terminated, and the database layer registers,
while a transaction is open, how to interrupt it (cancel the running statement). The scope is
found through a context variable, so no layer passes it by hand and no layer imports another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar


class CallEndedError(Exception):
    """The call this work was for has already ended (cancelled, or its deadline passed)."""


class CallScope:
    def __init__(self) -> None:
        # Held while interrupting, and while an interrupt is (un)registered: the transaction's
        # connection cannot go back to the pool while its statement is being cancelled, so a
        # late cancel request can never reach the next user of that connection.
        self._lock = threading.Lock()
        self._ended = False
        self._interrupts: list[Callable[[], None]] = []

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self) -> None:
        """The call ended: interrupt whatever is running for it; refuse to start anything more.

        gRPC calls this on its polling thread, which must never wait on the database (a cancel
        request opens a connection): the interrupts run on a thread of their own.
        """
        with self._lock:
            self._ended = True
            if not self._interrupts:
                return  # the usual case: the call finished its work before it ended
        _interrupters.submit(self._interrupt)

    def _interrupt(self) -> None:
        with self._lock:
            for interrupt in self._interrupts:
                interrupt()

    @contextmanager
    def interruptible(self, interrupt: Callable[[], None]) -> Iterator[None]:
        """Run the block with `interrupt` registered; CallEndedError if the call already ended."""
        with self._lock:
            if self._ended:
                raise CallEndedError("the call has already ended")
            self._interrupts.append(interrupt)
        try:
            yield
        finally:
            with self._lock:
                self._interrupts.remove(interrupt)


# Few threads: cancels are rare (a caller gone mid-statement) and each takes milliseconds.
_interrupters = ThreadPoolExecutor(max_workers=2, thread_name_prefix="interrupt")
_current: ContextVar[CallScope | None] = ContextVar("call_scope", default=None)


def current_scope() -> CallScope | None:
    """The scope of the call this thread is serving; None in background jobs."""
    return _current.get()


@contextmanager
def call_scope() -> Iterator[CallScope]:
    scope = CallScope()
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
