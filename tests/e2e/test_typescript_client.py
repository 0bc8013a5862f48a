"""A Node sibling calls the real `booking-service serve` through the TypeScript client (clients/ts).

clients/ts/examples/sibling-calls.ts is compiled with the package's pinned TypeScript (`npm ci`
ran in `make install`) and run with Node (>= 20): one assignment, one validation error, one
NOT_FOUND, each reported as the client decoded it (status code, ErrorInfo, BadRequest), then a
WatchPurchaseChanges stream that sees the purchase cancelled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo import DEMO_CENTRAL_ZONE, DEMO_TRAINER_PREFIX, demo_request, in_days
from tests.support.processes import ServerProcess, grpcurl_json

TS_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "ts"
PROGRAM = TS_CLIENT / "dist" / "examples" / "sibling-calls.js"


@pytest.fixture(scope="module")
def node_program() -> list[str]:
    """The command that runs the example program, compiled from the current sources."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node, "Node >= 20 is needed (see README: Set up)"
    assert npm, "npm is needed (see README: Set up)"
    assert (TS_CLIENT / "node_modules").is_dir(), "run `make install` (npm ci in clients/ts) first"
    built = subprocess.run(
        [npm, "run", "--silent", "build"],
        cwd=TS_CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return [node, str(PROGRAM)]


@pytest.fixture(scope="module")
def request_body() -> dict[str, Any]:
    return demo_request(start_date=in_days(45), time_slot="11:00")


@pytest.fixture(scope="module")
def report(
    demo_server: ServerProcess, node_program: list[str], request_body: dict[str, Any]
) -> dict[str, Any]:
    """What the Node program saw, as the JSON object it prints."""
    ran = subprocess.run(
        [*node_program, f"http://{demo_server.address}", json.dumps(request_body)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, f"node exited {ran.returncode}: {ran.stderr}\n{demo_server.describe()}"
    result: dict[str, Any] = json.loads(ran.stdout)
    return result


def test_a_typescript_sibling_gets_a_trainer_assigned_and_stored(
    report: dict[str, Any], demo_server: ServerProcess, request_body: dict[str, Any]
) -> None:
    assignment = report["assignment"]

    assert assignment["status"] == "ASSIGNED"
    assert assignment["zoneId"] == DEMO_CENTRAL_ZONE
    assert assignment["trainerId"].startswith(DEMO_TRAINER_PREFIX)
    assert assignment["rankedTrainerIds"][0] == assignment["trainerId"]
    assert assignment["sessionDates"] == [in_days(45 + i) for i in range(10)]
    # Stored for real: another client (grpcurl) reads the same purchase back.
    stored = grpcurl_json(
        demo_server.address,
        "booking.v1.BookingService/GetPurchase",
        {"purchase_id": assignment["purchaseId"]},
    )["purchase"]
    assert (stored["booking_id"], stored["trainer_id"]) == (
        request_body["booking_id"],
        assignment["trainerId"],
    )


def test_a_typescript_sibling_reads_the_field_violations_of_an_invalid_request(
    report: dict[str, Any],
) -> None:
    invalid = report["invalid"]

    assert (invalid["code"], invalid["reason"], invalid["domain"]) == (
        "InvalidArgument",
        "INVALID_REQUEST",
        "booking.v1",
    )
    assert invalid["knownReason"] == "INVALID_REQUEST"
    assert [v["field"] for v in invalid["fieldViolations"]] == ["booking_id", "total_sessions"]
    assert all(v["description"] for v in invalid["fieldViolations"])


def test_a_typescript_sibling_reads_the_reason_of_a_not_found(report: dict[str, Any]) -> None:
    not_found = report["notFound"]

    assert (not_found["code"], not_found["reason"], not_found["knownReason"]) == (
        "NotFound",
        "PURCHASE_NOT_FOUND",
        "PURCHASE_NOT_FOUND",
    )
    assert not_found["fieldViolations"] == []


def test_a_typescript_sibling_watches_its_purchase_being_cancelled(report: dict[str, Any]) -> None:
    watched = report["watched"]

    assert watched["types"][0] == "HEARTBEAT"  # the stream was live before the change
    assert watched["types"][-1] == "PURCHASE_CHANGED"
    assert (watched["purchaseId"], watched["status"]) == (report["assignment"]["purchaseId"], "CANCELLED")
    assert watched["hasResumeToken"]
