"""The error boundary: one interceptor that logs every RPC and turns errors into statuses.

Servicers never catch or abort. Expected failures are DomainErrors mapped by rpc/errors.py;
anything else is INTERNAL "internal error" to the caller and a traceback in the log.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from grpc_status import rpc_status

from booking_server.call_scope import call_scope
from booking_server.domain.errors import DomainError
from booking_server.rpc.errors import internal_status, rich_status, status_code_for, status_for_domain_error

REQUEST_ID_KEY = "x-request-id"
log = structlog.get_logger("booking_server.rpc")

Behavior = Callable[[Any, grpc.ServicerContext], Any]


def _request_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return uuid.uuid4().hex


def _wrap(method: str, behavior: Behavior) -> Behavior:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        request_id = _request_id(context)
        context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
        failure = None
        code = grpc.StatusCode.OK
        with (
            structlog.contextvars.bound_contextvars(request_id=request_id, method=method),
            call_scope() as scope,
        ):
            # Called when the call ends, early or not: work still running for it is then abandoned.
            if not context.add_callback(scope.end):
                scope.end()
            try:
                return behavior(request, context)
            except NotImplementedError:
                # The generated base servicer raises this for RPCs a later issue will implement.
                failure = rich_status(
                    grpc.StatusCode.UNIMPLEMENTED, "not implemented yet", "NOT_IMPLEMENTED", []
                )
                code = grpc.StatusCode.UNIMPLEMENTED
            except DomainError as error:
                failure = status_for_domain_error(error)
                code = status_code_for(error)
            except Exception:
                log.exception("rpc_failed")
                failure = internal_status()
                code = grpc.StatusCode.INTERNAL
            finally:
                log.info(
                    "rpc_handled",
                    code=code.name,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
        # Outside the try: abort() raises, and nothing above must swallow it.
        context.abort_with_status(rpc_status.to_status(failure))
        return None  # unreachable: abort_with_status raises

    return handle


class ErrorBoundaryInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every unary-unary handler of our services; streams pass through untouched."""

    def __init__(self, *, service_prefixes: tuple[str, ...] = ("/booking.v1.",)) -> None:
        self._prefixes = service_prefixes

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or handler.unary_unary is None or not method.startswith(self._prefixes):
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
