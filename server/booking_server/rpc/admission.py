"""Admission: past BOOKING_MAX_CONCURRENT_RPCS calls held, RESOURCE_EXHAUSTED with ErrorInfo.

gRPC's own `maximum_concurrent_rpcs` refuses with a bare status (no ErrorInfo, no RetryInfo)
and offers no hook, so the limit is enforced here and gRPC's stays as a looser backstop.

Interceptors run on gRPC's polling thread, before the call is queued for a worker; a call
cancelled while queued never reaches its handler. So "calls held" is counted by the pool
itself (every submitted item runs, cancelled or not), never by the handler: a count kept in
the handler would leak one place for every call cancelled in the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc

from booking_server.domain.errors import ResourceExhaustedError
from booking_server.rpc.interceptors import OUR_SERVICES

# How long a refused caller should wait before trying again (google.rpc.RetryInfo).
RETRY_AFTER_SECONDS = 1.0
# gRPC's own limit, as a backstop past ours: only a flood far beyond the limit reaches it.
BACKSTOP_FACTOR = 4


class CountingThreadPool(futures.ThreadPoolExecutor):
    """A thread pool that knows how many calls it holds, queued or running."""

    def __init__(self, max_workers: int, *, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._held = 0
        self._count_lock = threading.Lock()

    @property
    def held(self) -> int:
        return self._held

    def _count(self, delta: int) -> None:
        with self._count_lock:
            self._held += delta

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._count(-1)

        self._count(1)
        try:
            return super().submit(run)
        except BaseException:
            self._count(-1)
            raise


def overloaded() -> ResourceExhaustedError:
    return ResourceExhaustedError(
        "the server is at its limit of concurrent calls; retry shortly",
        reason="OVERLOADED",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def _refuse(request: Any, context: grpc.ServicerContext) -> Any:
    raise overloaded()


class AdmissionInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses unary calls while the pool holds `limit` calls; listed after the error boundary,
    which turns the refusal into its status and logs it like any other answer."""

    def __init__(self, pool: CountingThreadPool, *, limit: int) -> None:
        self._pool = pool
        self._limit = limit

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if (
            handler is None
            or handler.unary_unary is None
            # Only our services' calls: health and reflection are cheap, a health check refused
            # under load would take a busy replica out of rotation, and the boundary that turns
            # the refusal into its status wraps only these.
            or not handler_call_details.method.startswith(OUR_SERVICES)
            or self._pool.held < self._limit
        ):
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _refuse,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
