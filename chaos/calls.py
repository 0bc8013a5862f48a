"""One call as the drills see it: "OK" or "<CODE> <ErrorInfo reason>", with the status's size."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

NO_REASON = "-"


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    reason: str  # ErrorInfo.reason; NO_REASON when the status carries none (or on OK)
    details_bytes: int = 0  # size of the serialized google.rpc.Status, 0 when absent

    @property
    def key(self) -> str:
        return "OK" if self.code == grpc.StatusCode.OK else f"{self.code.name} {self.reason}"


OK = Answer(grpc.StatusCode.OK, NO_REASON)


def answer_of(error: grpc.RpcError) -> Answer:
    """The code and ErrorInfo reason of a failed call (a grpc.Call carries both)."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None  # type: ignore[arg-type]
    if status is None:
        return Answer(code, NO_REASON)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return Answer(code, info.reason or NO_REASON, status.ByteSize())
    return Answer(code, NO_REASON, status.ByteSize())
