"""The go-grpc-prometheus metrics of every RPC, with the final status code.

It is the outermost interceptor, so the code it records is the one the caller gets: after the
error boundary mapped a domain error, or after authentication or the rate limit refused the
call (all of them end a call with abort, which leaves the code on the context).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc

from booking_server.metrics import Metrics
from booking_server.rpc.handlers import Handler, wrap_handler


def go_code_name(code: grpc.StatusCode) -> str:
    """The code as Go's codes.Code.String() spells it, which dashboards of go-grpc-prometheus use."""
    if code is grpc.StatusCode.OK:
        return "OK"
    return "".join(word.capitalize() for word in code.name.split("_"))


class MetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None or (handler.unary_unary is None and handler.unary_stream is None):
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        grpc_type = "unary" if handler.unary_unary is not None else "server_stream"
        labels = (grpc_type, service, method)
        return wrap_handler(handler, lambda context: self._observed(labels, context))

    @contextmanager
    def _observed(
        self, labels: tuple[str, str, str], context: grpc.ServicerContext
    ) -> Iterator[Callable[[], None]]:
        metrics = self._metrics
        metrics.started.labels(*labels).inc()
        metrics.msg_received.labels(*labels).inc()
        streaming = labels[0] == "server_stream"
        if streaming:
            metrics.watch_streams.inc()
        started = time.perf_counter()
        failed = False
        try:
            yield metrics.msg_sent.labels(*labels).inc
        except BaseException:
            failed = True
            raise
        finally:
            # An aborted call left its code on the context; an exception that escaped without
            # one becomes UNKNOWN in grpcio.
            final: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]  # not in grpc-stubs
            code = final or (grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK)
            metrics.handled.labels(*labels, go_code_name(code)).inc()
            metrics.handling_seconds.labels(*labels).observe(time.perf_counter() - started)
            if streaming:
                metrics.watch_streams.dec()
