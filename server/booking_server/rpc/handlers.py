"""Wrapping method handlers of either kind our services have: unary-unary and unary-stream.

The authentication, rate-limit and metrics interceptors (AroundInterceptor) each give
`wrap_handler` a context manager that runs around the whole call: for a stream, until its last
message is sent. The manager yields a callback the wrapper calls for each response message it
hands to gRPC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, NoReturn, TypeAlias

import grpc
import structlog
from grpc_status import rpc_status

from booking_server.domain.errors import DomainError
from booking_server.rpc.errors import status_code_for, status_for_domain_error

# Strings: grpc's classes are generic only in grpc-stubs, not at run time.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
# (context, streaming) -> the manager around the call
Around: TypeAlias = Callable[[grpc.ServicerContext, bool], AbstractContextManager[Callable[[], None]]]
log = structlog.get_logger("booking_server.rpc")


def no_message_hook() -> None:
    """The per-message callback of a wrapper that does not count messages."""


def wrap_handler(handler: Handler, around: Around) -> Handler:
    """The same handler with `around` about each call; other kinds (client streams) unchanged."""
    if handler.unary_unary is not None:
        unary = handler.unary_unary

        def call_unary(request: Any, context: grpc.ServicerContext) -> Any:
            with around(context, False) as message_sent:
                response = unary(request, context)
                message_sent()
                return response

        return grpc.unary_unary_rpc_method_handler(
            call_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        if getattr(handler.unary_stream, "experimental_non_blocking", False):
            # Health's Watch: gRPC runs it without a thread only if this attribute is on the
            # function it calls; wrapped, each watch would hold a worker for as long as it is open.
            return handler
        stream = handler.unary_stream

        def call_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with around(context, True) as message_sent:
                for response in stream(request, context):
                    message_sent()
                    yield response

        return grpc.unary_stream_rpc_method_handler(
            call_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class AroundInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """An interceptor that runs `around` about each call of the methods `applies_to` accepts."""

    def applies_to(self, method: str) -> bool:
        return True

    def around(
        self, method: str, context: grpc.ServicerContext, *, streaming: bool
    ) -> AbstractContextManager[Callable[[], None]]:
        """Entered before the servicer runs, left after its answer (a stream's last message)."""
        raise NotImplementedError

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not self.applies_to(method):
            return handler
        return wrap_handler(
            handler, lambda context, streaming: self.around(method, context, streaming=streaming)
        )


def refuse(context: grpc.ServicerContext, error: DomainError, *, method: str, caller: str | None) -> NoReturn:
    """End a call that never reached its servicer, with the status of the one error table.

    Refusals happen before the error boundary, so this logs the RPC's one line itself.
    """
    log.info(
        "rpc_refused",
        method=method,
        caller=caller,
        peer=peer_host(context.peer()),
        code=status_code_for(error).name,
        reason=error.reason,
    )
    context.abort_with_status(rpc_status.to_status(status_for_domain_error(error)))
    raise AssertionError("unreachable: abort_with_status raises")


def peer_host(peer: str) -> str:
    """ "ipv4:10.0.0.7:53211" -> "10.0.0.7"; "ipv6:[::1]:5000" -> "::1"; anything else as is."""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6") and ":" in address:
        return address.rsplit(":", 1)[0].strip("[]")
    return peer
