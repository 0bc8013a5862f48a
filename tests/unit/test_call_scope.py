"""The scope of one call: its end interrupts the work registered for it, and refuses new work."""

from __future__ import annotations

import threading

import pytest
from booking_server.call_scope import CallEndedError, CallScope, call_scope, current_scope


def test_ending_the_call_interrupts_the_registered_work_once_and_only_while_registered() -> None:
    scope = CallScope()
    interrupted: list[str] = []
    done = threading.Event()

    def interrupt() -> None:  # like a statement's cancel: the work ends soon after
        interrupted.append("statement")
        done.set()

    with scope.interruptible(interrupt):
        scope.end()  # returns at once: the interrupt runs on another thread (gRPC calls end())
        assert done.wait(5)
    scope.end()

    assert interrupted == ["statement"]


def test_no_work_starts_for_a_call_that_has_ended() -> None:
    scope = CallScope()
    scope.end()

    with pytest.raises(CallEndedError), scope.interruptible(lambda: None):
        pass


def test_the_scope_is_found_only_inside_the_call() -> None:
    assert current_scope() is None
    with call_scope() as scope:
        assert current_scope() is scope
    assert current_scope() is None
