"""The error boundary: one interceptor that logs every RPC and turns errors into statuses.

Servicers never catch or abort. Expected failures are DomainErrors mapped by rpc/errors.py;
anything else is INTERNAL "internal error" to the caller and a traceback in the log.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.rpc import status_pb2
from grpc_status import rpc_status

from booking_server.call_scope import call_scope
from booking_server.domain.errors import DomainError
from booking_server.rpc.errors import internal_status, rich_status, status_code_for, status_for_domain_error

REQUEST_ID_KEY = "x-request-id"
# The methods the boundary (and the admission limit, rpc/admission.py) applies to: not health, not reflection.
OUR_SERVICES = ("/booking.v1.",)
log = structlog.get_logger("booking_server.rpc")

Behavior = Callable[[Any, grpc.ServicerContext], Any]


def _request_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return uuid.uuid4().hex


@dataclass
class _Outcome:
    failure: status_pb2.Status | None = None


@contextmanager
def _boundary(method: str, context: grpc.ServicerContext) -> Iterator[_Outcome]:
    """Log the RPC, and turn what its handler raises into `outcome.failure` (swallowed here)."""
    started = time.perf_counter()
    request_id = _request_id(context)
    context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
    outcome = _Outcome()
    code = grpc.StatusCode.OK
    with structlog.contextvars.bound_contextvars(request_id=request_id, method=method), call_scope() as scope:
        # Called when the call ends, early or not: work still running for it is then abandoned.
        if not context.add_callback(scope.end):
            scope.end()
        try:
            yield outcome
        except NotImplementedError:
            # The generated base servicer raises this for RPCs a later issue will implement.
            outcome.failure = rich_status(
                grpc.StatusCode.UNIMPLEMENTED, "not implemented yet", "NOT_IMPLEMENTED", []
            )
            code = grpc.StatusCode.UNIMPLEMENTED
        except DomainError as error:
            outcome.failure = status_for_domain_error(error)
            code = status_code_for(error)
        except Exception:
            log.exception("rpc_failed")
            outcome.failure = internal_status()
            code = grpc.StatusCode.INTERNAL
        finally:
            # A stream the client cancelled ends here with GeneratorExit, logged as OK.
            log.info(
                "rpc_handled", code=code.name, duration_ms=round((time.perf_counter() - started) * 1000, 2)
            )


def _wrap(method: str, behavior: Behavior) -> Behavior:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        with _boundary(method, context) as outcome:
            return behavior(request, context)
        # Outside the boundary: abort() raises, and nothing above must swallow it.
        assert outcome.failure is not None  # the boundary swallowed an error
        context.abort_with_status(rpc_status.to_status(outcome.failure))
        return None  # unreachable: abort_with_status raises

    return handle


def _wrap_stream(method: str, behavior: Behavior) -> Behavior:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with _boundary(method, context) as outcome:
            yield from behavior(request, context)
        if outcome.failure is not None:
            context.abort_with_status(rpc_status.to_status(outcome.failure))

    return handle


class ErrorBoundaryInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every unary-unary and unary-stream handler of our services."""

    def __init__(self, *, service_prefixes: tuple[str, ...] = OUR_SERVICES) -> None:
        self._prefixes = service_prefixes

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not method.startswith(self._prefixes):
            return handler
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
