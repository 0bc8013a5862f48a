"""Trainer messages <-> domain trainers."""

from __future__ import annotations

from booking.v1 import common_pb2

from booking_server.domain.trainer_rules import TrainerDraft, TrainerRecord
from booking_server.rpc.converters.common import (
    geo_from_proto,
    geo_to_proto,
    timestamp_from_datetime,
)


def trainer_draft_from_proto(trainer: common_pb2.Trainer) -> TrainerDraft:
    return TrainerDraft(
        trainer_id=trainer.trainer_id,
        display_name=trainer.display_name,
        active=trainer.active,
        franchise_id=trainer.franchise_id,
        zone_id=trainer.zone_id,
        certified_course_ids=tuple(trainer.certified_course_ids),
        # The contract flags the location with has_location; without it `location` is noise.
        location=geo_from_proto(trainer.location) if trainer.has_location else None,
        max_active_purchases=trainer.max_active_purchases,
    )


def trainer_to_proto(record: TrainerRecord) -> common_pb2.Trainer:
    trainer = record.trainer
    message = common_pb2.Trainer(
        trainer_id=trainer.trainer_id,
        display_name=trainer.display_name,
        active=trainer.active,
        franchise_id=trainer.franchise_id or "",
        zone_id=trainer.zone_id or "",
        certified_course_ids=list(trainer.certified_course_ids),
        has_location=trainer.location is not None,
        max_active_purchases=trainer.max_active_purchases,
        update_time=timestamp_from_datetime(record.update_time),
    )
    if trainer.location is not None:
        message.location.CopyFrom(geo_to_proto(trainer.location))
    return message
