"""Every Prometheus metric of the service (product 8.3), on a registry of its own per server.

The gRPC ones carry the names and labels users of go-grpc-prometheus expect (codes spelled as
Go spells them: "OK", "NotFound"); rpc/metrics_interceptor.py records them. The service's own
are recorded where their event happens (see the README's Metrics section for each).
`BOOKING_METRICS_ADDR` serves them as Prometheus text at /metrics.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", GRPC_LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by final status code.",
            (*GRPC_LABELS, "grpc_code"),
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from the start of an RPC to its end, as the server sees it.",
            GRPC_LABELS,
            registry=registry,
        )
        self.msg_received = Counter(
            "grpc_server_msg_received_total", "Request messages received.", GRPC_LABELS, registry=registry
        )
        self.msg_sent = Counter(
            "grpc_server_msg_sent_total", "Response messages sent.", GRPC_LABELS, registry=registry
        )
        self.assignments = Counter(
            "booking_assignments_total",
            "AutoAssignTrainer answers (dry runs left out), by purchase status.",
            ("outcome",),
            registry=registry,
        )
        self.assignment_seconds = Histogram(
            "booking_assignment_duration_seconds",
            "Time to answer an AutoAssignTrainer that returned a purchase (dry runs left out).",
            registry=registry,
        )
        self.directory_requests = Counter(
            "booking_directory_requests_total",
            "Trainer directory lookups made by BookingService (cache hits left out), by outcome.",
            ("outcome",),
            registry=registry,
        )
        self.breaker_open = Gauge(
            "booking_directory_breaker_open",
            "1 while the directory circuit breaker is open.",
            registry=registry,
        )
        self.waitlisted = Gauge(
            "booking_waitlisted_purchases",
            "Purchases waiting for a trainer (all replicas).",
            registry=registry,
        )
        self.unsynced = Gauge(
            "booking_read_model_unsynced_sessions",
            "Sessions the read model does not reflect yet (all replicas).",
            registry=registry,
        )
        self.promotions = Counter(
            "booking_promotions_total", "Waitlisted purchases this replica promoted.", registry=registry
        )
        self.watch_streams = Gauge(
            "booking_watch_streams", "Server-streaming (Watch) RPCs open on this replica.", registry=registry
        )
        self.pool_in_use = Gauge(
            "booking_db_pool_connections_in_use",
            "Database connections checked out of this replica's pool.",
            registry=registry,
        )

    def serve(self, address: str) -> WSGIServer:
        """Serve /metrics on `address` ("host:port"); returns the server (its port, shutdown())."""
        host, _, port = address.rpartition(":")
        server, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=self.registry)
        return server
