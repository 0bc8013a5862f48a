"""A scriptable TrainerDirectoryService: fails, stalls or pages as a test says."""

from __future__ import annotations

import threading

import grpc
from booking.v1 import common_pb2, trainer_directory_pb2, trainer_directory_pb2_grpc


class FakeDirectory(trainer_directory_pb2_grpc.TrainerDirectoryServiceServicer):
    """Serves a list of trainers; fails or stalls calls as a test scripts it."""

    def __init__(self) -> None:
        self.trainers: list[common_pb2.Trainer] = []
        self.scripted_failures: list[grpc.StatusCode] = []
        self.always_fail_with: grpc.StatusCode | None = None
        self.delay_seconds = 0.0
        self.release = threading.Event()
        self.calls: list[str] = []
        self.list_requests: list[trainer_directory_pb2.ListTrainersRequest] = []
        self.batch_requests: list[trainer_directory_pb2.BatchGetTrainersRequest] = []
        self.max_page_size = 500
        # "all": the filters as this service's directory applies them; "zone_id only": a directory
        # older than include_without_zone (zone_id alone means "that home zone"); "none": course
        # and active only, whatever else is asked.
        self.zone_filters = "all"
        self._lock = threading.Lock()

    def attempts(self, method: str) -> int:
        with self._lock:
            return self.calls.count(method)

    def _enter(self, method: str, context: grpc.ServicerContext) -> None:
        with self._lock:
            self.calls.append(method)
            failure = self.scripted_failures.pop(0) if self.scripted_failures else self.always_fail_with
        if self.delay_seconds:
            self.release.wait(self.delay_seconds)
        if failure is not None and failure != grpc.StatusCode.OK:
            context.abort(failure, "scripted failure")

    def _by_id(self, trainer_id: str, context: grpc.ServicerContext) -> common_pb2.Trainer:
        for trainer in self.trainers:
            if trainer.trainer_id == trainer_id:
                return trainer
        context.abort(grpc.StatusCode.NOT_FOUND, "TRAINER_NOT_FOUND")
        raise AssertionError("abort raises")

    def GetTrainer(  # noqa: N802 - the generated servicer names the method
        self, request: trainer_directory_pb2.GetTrainerRequest, context: grpc.ServicerContext
    ) -> trainer_directory_pb2.GetTrainerResponse:
        self._enter("GetTrainer", context)
        return trainer_directory_pb2.GetTrainerResponse(trainer=self._by_id(request.trainer_id, context))

    def BatchGetTrainers(  # noqa: N802 - the generated servicer names the method
        self, request: trainer_directory_pb2.BatchGetTrainersRequest, context: grpc.ServicerContext
    ) -> trainer_directory_pb2.BatchGetTrainersResponse:
        self.batch_requests.append(request)
        self._enter("BatchGetTrainers", context)
        found = [self._by_id(trainer_id, context) for trainer_id in request.trainer_ids]
        return trainer_directory_pb2.BatchGetTrainersResponse(trainers=found)

    def ListTrainers(  # noqa: N802 - the generated servicer names the method
        self, request: trainer_directory_pb2.ListTrainersRequest, context: grpc.ServicerContext
    ) -> trainer_directory_pb2.ListTrainersResponse:
        self.list_requests.append(request)
        self._enter("ListTrainers", context)
        matching = [
            t
            for t in self.trainers
            if request.course_id in t.certified_course_ids
            and (t.active or not request.active_only)
            and self._in_scope(t, request)
        ]
        start = int(request.page_token or 0)
        # A server may return fewer than asked: max_page_size forces several pages.
        end = start + min(request.page_size or 50, self.max_page_size)
        next_token = str(end) if end < len(matching) else ""
        page = matching[start:end]
        honored = self.zone_filters == "all" and request.include_without_zone
        return trainer_directory_pb2.ListTrainersResponse(
            trainers=page, next_page_token=next_token, include_without_zone_honored=honored
        )

    def _in_scope(
        self, trainer: common_pb2.Trainer, request: trainer_directory_pb2.ListTrainersRequest
    ) -> bool:
        if self.zone_filters == "none":
            return True
        if request.franchise_id and trainer.franchise_id != request.franchise_id:
            return False
        if request.company_only and trainer.franchise_id:
            return False
        if not request.zone_id:
            return True
        without_zone = self.zone_filters == "all" and request.include_without_zone
        return trainer.zone_id == request.zone_id or (without_zone and not trainer.zone_id)

    def UpsertTrainer(  # noqa: N802 - the generated servicer names the method
        self, request: trainer_directory_pb2.UpsertTrainerRequest, context: grpc.ServicerContext
    ) -> trainer_directory_pb2.UpsertTrainerResponse:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the client never writes")
        raise AssertionError("abort raises")

    def DeleteTrainer(  # noqa: N802 - the generated servicer names the method
        self, request: trainer_directory_pb2.DeleteTrainerRequest, context: grpc.ServicerContext
    ) -> trainer_directory_pb2.DeleteTrainerResponse:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the client never writes")
        raise AssertionError("abort raises")
