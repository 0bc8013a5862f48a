"""The hostile-input drill (chaos/hostile.py) in smoke size, against its own embedded PostgreSQL
and one real `booking-service serve` with its background jobs off, as `make chaos` runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from booking.v1 import booking_service_pb2, trainer_directory_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import service
from bench.pg import EmbeddedPostgres
from chaos.hostile import (
    MAX_REQUEST_BYTES,
    QUIET_ENVIRONMENT,
    Pools,
    StrategyBuilder,
    hostile_input_drill,
    unary_rpcs,
)

EXAMPLES_PER_RPC = 8
DATABASE = "chaos_hostile"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[service.RunningService, str]]:
    log_path = Path(tmp_path_factory.mktemp("chaos-hostile")) / "server.log"
    pg = EmbeddedPostgres.start()
    try:
        pg.create_database(DATABASE)
        service.migrate(pg.service_url(DATABASE), log_path)
        server = service.start_service(
            pg.service_url(DATABASE), log_path, cache_ttl=None, extra_env=QUIET_ENVIRONMENT
        )
        try:
            yield server, pg.libpq_url(DATABASE)
        finally:
            server.stop()
    finally:
        pg.stop()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_hostile_input_gets_documented_answers_and_writes_nothing_when_refused(
    served: tuple[service.RunningService, str],
) -> None:
    server, libpq_url = served
    result = hostile_input_drill(server.target, libpq_url, examples_per_rpc=EXAMPLES_PER_RPC, seed=16)
    server.check_alive()
    assert result.findings == []
    rpcs = len(unary_rpcs())
    assert rpcs >= 28
    assert result.figures["rpcs called"] == result.figures["rpcs"] == str(rpcs)
    assert result.calls >= rpcs
    assert "INTERNAL -" not in result.answers


def test_every_unary_rpc_of_both_services_is_found_in_the_descriptors() -> None:
    labels = {rpc.label for rpc in unary_rpcs()}
    assert {"BookingService.AutoAssignTrainer", "TrainerDirectoryService.UpsertTrainer"} <= labels
    services = (
        booking_service_pb2.DESCRIPTOR.services_by_name["BookingService"],
        trainer_directory_pb2.DESCRIPTOR.services_by_name["TrainerDirectoryService"],
    )
    unary = [m for service in services for m in service.methods if not m.server_streaming]
    assert len(labels) == len(unary)


@settings(max_examples=10, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_requests_are_their_rpc_type_and_only_the_padded_ones_exceed_1_mb(
    data: st.DataObject,
) -> None:
    pools = Pools()
    builder = StrategyBuilder(pools)
    rpc = data.draw(st.sampled_from(unary_rpcs()))
    request = data.draw(builder.request(rpc.request))
    assert isinstance(request, rpc.request)
    size = request.ByteSize()
    assert size <= MAX_REQUEST_BYTES or size >= MAX_REQUEST_BYTES + 64 * 1024
