"""BookingService RPCs for assignment and purchases (a mixin of BookingServicer)."""

from __future__ import annotations

import time

import grpc
from booking.v1 import booking_service_pb2 as pb

from booking_server.metrics import Metrics
from booking_server.rpc.converters.purchases import (
    assignment_request_from_proto,
    assignment_result_to_proto,
    purchase_status_from_proto,
    purchase_to_proto,
    session_to_proto,
    suggestions_to_proto,
)
from booking_server.services.assign_trainer import AssignTrainer
from booking_server.services.purchase_queries import PurchaseQueries
from booking_server.services.suggest_alternatives import SuggestAlternatives

# grpc reports "no deadline" as a huge number of seconds; anything above this means none.
_NO_DEADLINE_SECONDS = 1e6


def remaining_seconds(context: grpc.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None or remaining > _NO_DEADLINE_SECONDS else float(remaining)


class AssignmentRpcs:
    metrics: Metrics
    assign_trainer: AssignTrainer
    suggest_alternatives: SuggestAlternatives
    purchase_queries: PurchaseQueries

    def AutoAssignTrainer(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.AutoAssignTrainerRequest, context: grpc.ServicerContext
    ) -> pb.AutoAssignTrainerResponse:
        started = time.perf_counter()
        result = self.assign_trainer(
            assignment_request_from_proto(request), budget_seconds=remaining_seconds(context)
        )
        if not request.validate_only:
            self.metrics.assignments.labels(result.purchase.status.name).inc()
            self.metrics.assignment_seconds.observe(time.perf_counter() - started)
        return assignment_result_to_proto(result)

    def SuggestAlternatives(  # noqa: N802
        self, request: pb.SuggestAlternativesRequest, context: grpc.ServicerContext
    ) -> pb.SuggestAlternativesResponse:
        found = self.suggest_alternatives(
            assignment_request_from_proto(request),
            max_results=request.max_results,
            window_days=request.window_days,
            budget_seconds=remaining_seconds(context),
        )
        return suggestions_to_proto(found)

    def GetPurchase(  # noqa: N802
        self, request: pb.GetPurchaseRequest, context: grpc.ServicerContext
    ) -> pb.GetPurchaseResponse:
        return pb.GetPurchaseResponse(
            purchase=purchase_to_proto(self.purchase_queries.get(request.purchase_id))
        )

    def ListPurchases(  # noqa: N802
        self, request: pb.ListPurchasesRequest, context: grpc.ServicerContext
    ) -> pb.ListPurchasesResponse:
        page = self.purchase_queries.list(
            booking_id=request.booking_id,
            status=purchase_status_from_proto(request.status),
            trainer_id=request.trainer_id,
            zone_id=request.zone_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListPurchasesResponse(
            purchases=[purchase_to_proto(p) for p in page.purchases], next_page_token=page.next_page_token
        )

    def ListPurchaseSessions(  # noqa: N802
        self, request: pb.ListPurchaseSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListPurchaseSessionsResponse:
        sessions = self.purchase_queries.sessions(request.purchase_id)
        return pb.ListPurchaseSessionsResponse(sessions=[session_to_proto(s) for s in sessions])
