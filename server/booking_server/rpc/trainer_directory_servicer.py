"""booking.v1.TrainerDirectoryService: thin RPCs over TrainerService.

Each method converts, calls one use case and converts back; DomainErrors travel to the
error-boundary interceptor, so there is no try and no abort here.
"""

from __future__ import annotations

import grpc
from booking.v1 import trainer_directory_pb2 as pb
from booking.v1 import trainer_directory_pb2_grpc

from booking_server.rpc.converters.trainers import trainer_draft_from_proto, trainer_to_proto
from booking_server.services.trainers import TrainerService


class TrainerDirectoryServicer(trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer):
    def __init__(self, *, trainers: TrainerService) -> None:
        self.trainers = trainers

    def GetTrainer(  # noqa: N802 - gRPC method names are PascalCase
        self, request: pb.GetTrainerRequest, context: grpc.ServicerContext
    ) -> pb.GetTrainerResponse:
        return pb.GetTrainerResponse(trainer=trainer_to_proto(self.trainers.get_trainer(request.trainer_id)))

    def BatchGetTrainers(  # noqa: N802
        self, request: pb.BatchGetTrainersRequest, context: grpc.ServicerContext
    ) -> pb.BatchGetTrainersResponse:
        records = self.trainers.batch_get_trainers(tuple(request.trainer_ids))
        return pb.BatchGetTrainersResponse(trainers=[trainer_to_proto(record) for record in records])

    def ListTrainers(  # noqa: N802
        self, request: pb.ListTrainersRequest, context: grpc.ServicerContext
    ) -> pb.ListTrainersResponse:
        page = self.trainers.list_trainers(
            course_id=request.course_id,
            active_only=request.active_only,
            franchise_id=request.franchise_id,
            company_only=request.company_only,
            zone_id=request.zone_id,
            include_without_zone=request.include_without_zone,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        trainers = [trainer_to_proto(record) for record in page.trainers]
        return pb.ListTrainersResponse(
            trainers=trainers,
            next_page_token=page.next_page_token,
            include_without_zone_honored=request.include_without_zone,  # validated: zone_id is set
        )

    def UpsertTrainer(  # noqa: N802
        self, request: pb.UpsertTrainerRequest, context: grpc.ServicerContext
    ) -> pb.UpsertTrainerResponse:
        record = self.trainers.upsert_trainer(trainer_draft_from_proto(request.trainer))
        return pb.UpsertTrainerResponse(trainer=trainer_to_proto(record))

    def DeleteTrainer(  # noqa: N802
        self, request: pb.DeleteTrainerRequest, context: grpc.ServicerContext
    ) -> pb.DeleteTrainerResponse:
        self.trainers.delete_trainer(request.trainer_id)
        return pb.DeleteTrainerResponse()
