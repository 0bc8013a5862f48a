"""CompleteSession and GenerateCertificates: who earns certificates, when, and exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import common_pb2 as common
from sqlalchemy import Engine

from tests.support.certificates import assert_one_per_student, assign_course, complete, generate, listed
from tests.support.read_model import execute, set_tutoring_status, tutoring_rows
from tests.support.rpc_errors import rich_error
from tests.support.world import World

ALL_BUT_LAST = range(1, 30)


@pytest.fixture
def world(booking, directory) -> World:  # type: ignore[no-untyped-def]
    w = World(booking=booking, directory=directory)
    w.create_zone()
    w.add_trainer()
    return w


def test_29_completed_sessions_give_none_and_the_30th_completed_in_the_read_model_gives_one_per_student(
    world: World, engine: Engine
) -> None:
    response = assign_course(world)
    purchase = response.purchase
    for session in response.sessions[:29]:
        completed = complete(world, session.session_id)
        assert completed.session.status == common.SESSION_STATUS_COMPLETED
        assert list(completed.certificates_issued) == []
    assert generate(world, purchase.purchase_id) == []

    set_tutoring_status(engine, purchase.purchase_id, "completed", session_numbers=[30])
    issued = generate(world, purchase.purchase_id)

    assert_one_per_student(issued, purchase)
    assert sorted(listed(world, purchase.purchase_id), key=lambda c: c.student_id) == sorted(
        issued, key=lambda c: c.student_id
    )
    assert generate(world, purchase.purchase_id) == []  # issuing again issues nothing new


def test_the_completion_that_completes_the_course_returns_its_certificates_once(
    world: World, engine: Engine
) -> None:
    response = assign_course(world)
    purchase = response.purchase
    set_tutoring_status(engine, purchase.purchase_id, "completed", session_numbers=ALL_BUT_LAST)
    last = response.sessions[29]

    completed = complete(world, last.session_id)

    assert completed.session.session_id == last.session_id
    assert completed.session.status == common.SESSION_STATUS_COMPLETED
    assert_one_per_student(list(completed.certificates_issued), purchase)
    assert {r["status"] for r in tutoring_rows(engine, purchase.purchase_id)} == {"completed"}
    again = complete(world, last.session_id)
    assert again.session == completed.session
    assert list(again.certificates_issued) == []
    assert len(listed(world, purchase.purchase_id)) == 2


def test_a_completion_leaves_read_model_rows_the_admin_side_took_over_alone(
    world: World, engine: Engine
) -> None:
    response = assign_course(world, student_count=1, total_sessions=10)
    first = response.sessions[0]
    set_tutoring_status(engine, response.purchase.purchase_id, "disputed", session_numbers=[1])

    completed = complete(world, first.session_id)

    assert completed.session.status == common.SESSION_STATUS_COMPLETED
    assert [r["status"] for r in tutoring_rows(engine, response.purchase.purchase_id)][:2] == [
        "disputed",
        "scheduled",
    ]


def test_a_cancelled_session_gives_no_certificates_and_cannot_be_completed(
    world: World, engine: Engine
) -> None:
    response = assign_course(world)
    purchase_id = response.purchase.purchase_id
    set_tutoring_status(engine, purchase_id, "completed", session_numbers=ALL_BUT_LAST)
    execute(
        engine,
        "UPDATE purchase_sessions SET status = 'cancelled' WHERE id = :id",
        id=response.sessions[29].session_id,
    )

    assert generate(world, purchase_id) == []
    with pytest.raises(grpc.RpcError) as raised:
        complete(world, response.sessions[29].session_id)

    error = rich_error(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_CANCELLED")
    assert listed(world, purchase_id) == []


def test_a_tutoring_session_cancelled_in_the_read_model_gives_no_certificates(
    world: World, engine: Engine
) -> None:
    response = assign_course(world)
    purchase_id = response.purchase.purchase_id
    set_tutoring_status(engine, purchase_id, "completed", session_numbers=range(1, 31))
    execute(
        engine,
        "UPDATE tutoring_sessions SET status = 'cancelled' "
        "WHERE purchase_session_id = :id AND student_id = :student",
        id=response.sessions[10].session_id,
        student=response.purchase.students[0].id,
    )

    assert generate(world, purchase_id) == []
    assert listed(world, purchase_id) == []


def test_a_completed_20_session_purchase_gives_no_certificates(world: World, engine: Engine) -> None:
    response = assign_course(world, total_sessions=20)
    set_tutoring_status(engine, response.purchase.purchase_id, "completed", session_numbers=range(1, 21))

    completed = complete(world, response.sessions[0].session_id)

    assert list(completed.certificates_issued) == []
    assert generate(world, response.purchase.purchase_id) == []


def test_four_concurrent_generations_issue_exactly_one_certificate_per_student(
    world: World, engine: Engine
) -> None:
    response = assign_course(world)
    purchase_id = response.purchase.purchase_id
    set_tutoring_status(engine, purchase_id, "completed", session_numbers=range(1, 31))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: generate(world, purchase_id), range(4)))

    issued = [c for result in results for c in result]
    assert_one_per_student(issued, response.purchase)
    assert Counter(len(r) for r in results) == {2: 1, 0: 3}
    assert len(listed(world, purchase_id)) == 2


def test_generating_for_every_purchase_issues_what_is_due(world: World, engine: Engine) -> None:
    due = assign_course(world)
    not_due = assign_course(world, student_count=1, preferred_time_slot="09:00")
    set_tutoring_status(engine, due.purchase.purchase_id, "completed", session_numbers=range(1, 31))
    set_tutoring_status(engine, not_due.purchase.purchase_id, "completed", session_numbers=ALL_BUT_LAST)

    issued = list(world.booking.GenerateCertificates(pb.GenerateCertificatesRequest()).certificates_issued)

    assert_one_per_student([c for c in issued if c.purchase_id == due.purchase.purchase_id], due.purchase)
    assert [c for c in issued if c.purchase_id == not_due.purchase.purchase_id] == []
