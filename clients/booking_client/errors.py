"""Errors the trainer directory client raises; callers never see a raw ``grpc.RpcError``."""

from __future__ import annotations

from collections.abc import Sequence

import grpc


class DirectoryUnavailableError(Exception):
    """The directory could not be read: transient failure after retries, another error, or breaker open.

    Callers turn this into an outcome (the purchase is waitlisted), so it carries the
    status code for logs and metrics but no details of the remote failure.
    """

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return f"{self.message} ({self.code.name})"


class CallerDeadlineExceededError(Exception):
    """The caller's own deadline ran out before the directory answered.

    It says nothing about the directory: the caller's budget (a short deadline, or time spent
    queueing in front of this call) was too small. The breaker does not count it, and callers
    must not store it as "directory unavailable": the caller has gone, or is about to.
    """

    def __init__(self, method: str) -> None:
        super().__init__(f"{method}: the caller's deadline ran out")
        self.method = method


class DirectoryNotFoundError(Exception):
    """The directory answered NOT_FOUND for a trainer id: an answer, not an outage.

    ``trainer_ids`` holds the one id of a get, or the chunk of a batch get, since the batch
    contract fails the whole call without saying which id was unknown.
    """

    def __init__(self, trainer_ids: Sequence[str]) -> None:
        self.trainer_ids = tuple(trainer_ids)
        if len(self.trainer_ids) == 1:
            message = f"trainer not found: {self.trainer_ids[0]}"
        else:
            message = f"one of {len(self.trainer_ids)} trainers not found"
        super().__init__(message)
