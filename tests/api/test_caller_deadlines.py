"""A caller's budget running out is DEADLINE_EXCEEDED with nothing stored, never an outcome.

Product 1.9 stores TRAINER_DIRECTORY_UNAVAILABLE when the directory fails; a caller whose own
deadline ran out before the directory could answer is not that, and a stored outcome would be
returned by every replay.
"""

from __future__ import annotations

import grpc
from booking.v1 import common_pb2 as common

from tests.support.world import World


def test_deadlines_too_short_for_the_directory_store_nothing_and_replays_are_assigned(world: World) -> None:
    for index in range(30):
        world.add_trainer(north_km=0.1 + index * 0.01)
    requests = [world.request() for _ in range(12)]

    codes = set()
    for index, request in enumerate(requests):
        try:
            world.booking.AutoAssignTrainer(request, timeout=0.002 + 0.001 * index)
            codes.add(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.add(error.code())
    replays = [world.booking.AutoAssignTrainer(request, timeout=10) for request in requests]

    assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}
    assert grpc.StatusCode.DEADLINE_EXCEEDED in codes
    assert [r.purchase.status for r in replays] == [common.PURCHASE_STATUS_ASSIGNED] * len(requests)
    # And the breaker did not count them: a fresh request still reads the directory.
    fresh = world.booking.AutoAssignTrainer(world.request(), timeout=10)
    assert fresh.purchase.status == common.PURCHASE_STATUS_ASSIGNED
