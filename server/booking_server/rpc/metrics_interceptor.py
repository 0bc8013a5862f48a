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
from booking_server.rpc.handlers import AroundInterceptor


def go_code_name(code: grpc.StatusCode) -> str:
    """The code as Go's codes.Code.String() spells it, which dashboards of go-grpc-prometheus use."""
    if code is grpc.StatusCode.OK:
        return "OK"
    return "".join(word.capitalize() for word in code.name.split("_"))


class MetricsInterceptor(AroundInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    @contextmanager
    def around(
        self, method: str, context: grpc.ServicerContext, *, streaming: bool
    ) -> Iterator[Callable[[], None]]:
        service, _, name = method.lstrip("/").rpartition("/")
        labels = ("server_stream" if streaming else "unary", service, name)
        metrics = self._metrics
        metrics.started.labels(*labels).inc()
        metrics.msg_received.labels(*labels).inc()
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
