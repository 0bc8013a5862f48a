"""The real `booking-service serve` in modes `jwt` and `mtls`, called with grpcurl.

Credentials come from the tool a new user runs (`python -m tools.credentials`), the demo data
from `seed-demo`, and an assignment goes through the built-in directory (`self`), so the
process's own directory calls are shown to work with authentication on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import (
    SERVING,
    ServerProcess,
    free_port,
    health_statuses,
    run_cli,
    run_grpcurl,
    service_env,
    serving,
)

ASSIGNMENT = {
    "booking_id": "b0c4a5e2-1d3f-4e6a-8b7c-0000000000e1",
    "course_id": "d3e0c000-0000-4000-8000-000000000001",  # demo "Mathematics"
    "class_type": "CLASS_TYPE_ONE_ON_ONE",
    "total_sessions": 10,
    "delivery_mode": "DELIVERY_MODE_WEEKDAY_DAILY",
    "start_date": "2030-01-07",
    "preferred_time_slot": "16:00",
    "student_location": {"latitude": 17.385, "longitude": 78.4867},
    "students": [{"id": "5f3e2d1c-0000-4000-8000-0000000000e1", "name": "Asha"}],
}
ASSIGN = "booking.v1.BookingService/AutoAssignTrainer"


def _tool(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tools.credentials", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("creds")
    _tool("make", str(directory))
    return directory


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.fixture
def secured(
    request: pytest.FixtureRequest, credentials: Path, empty_database_url: str, log_dir: Path
) -> Iterator[ServerProcess]:
    """`serve` in the mode of the test's parameter, with the env file the tool wrote, demo data loaded."""
    mode: str = request.param
    env = {
        **_env_file(credentials / f"{mode}.env"),
        "BOOKING_DATABASE_URL": empty_database_url,
        "BOOKING_HEALTH_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
        "BOOKING_PROMOTION_INTERVAL_SECONDS": "0",
    }
    migrated = run_cli("migrate", service_env(env))
    assert migrated.returncode == 0, migrated.stderr
    with serving(env, log_dir=log_dir, name=mode) as server:
        seeded = run_cli("seed-demo", server.env)
        assert seeded.returncode == 0, seeded.stderr
        yield server


def _tls(credentials: Path, *extra: str) -> tuple[str, ...]:
    return ("-cacert", str(credentials / "ca.pem"), *extra)


@pytest.mark.slow
@pytest.mark.parametrize("secured", ["jwt"], indirect=True)
def test_jwt_mode_answers_a_bearer_token_with_the_role_and_refuses_a_call_without(
    secured: ServerProcess, credentials: Path
) -> None:
    booker = _tool("token", str(credentials), "--sub", "checkout", "--role", "booking.booker")
    reader = _tool("token", str(credentials), "--sub", "report", "--role", "booking.reader")
    address = f"localhost:{secured.port}"

    assigned = run_grpcurl(
        address, ASSIGN, data=ASSIGNMENT, transport=_tls(credentials, "-H", f"authorization: Bearer {booker}")
    )
    anonymous = run_grpcurl(address, ASSIGN, data=ASSIGNMENT, transport=_tls(credentials))
    denied = run_grpcurl(
        address, ASSIGN, data=ASSIGNMENT, transport=_tls(credentials, "-H", f"authorization: Bearer {reader}")
    )
    listed = run_grpcurl(address, "list", transport=_tls(credentials))

    assert assigned.returncode == 0, assigned.stderr
    assert json.loads(assigned.stdout)["purchase"]["status"] == "PURCHASE_STATUS_ASSIGNED"
    assert "Code: Unauthenticated" in anonymous.stdout + anonymous.stderr
    assert '"required_role":"booking.booker"' in denied.stdout + denied.stderr
    assert "booking.v1.BookingService" in listed.stdout
    assert booker not in secured.stderr()
    handled = [e for e in secured.events("rpc_handled") if e["method"].endswith("AutoAssignTrainer")]
    assert [e["caller"] for e in handled] == ["checkout"]


@pytest.mark.slow
@pytest.mark.parametrize("secured", ["mtls"], indirect=True)
def test_mtls_mode_answers_a_client_certificate_and_refuses_a_client_without(
    secured: ServerProcess, credentials: Path
) -> None:
    address = f"localhost:{secured.port}"
    client = ("-cert", str(credentials / "client.pem"), "-key", str(credentials / "client-key.pem"))

    assigned = run_grpcurl(address, ASSIGN, data=ASSIGNMENT, transport=_tls(credentials, *client))
    without = run_grpcurl(address, ASSIGN, data=ASSIGNMENT, transport=_tls(credentials))
    probes = health_statuses(secured.probe_address)  # plaintext, no certificate: what kubelet does

    assert assigned.returncode == 0, assigned.stderr
    assert json.loads(assigned.stdout)["purchase"]["status"] == "PURCHASE_STATUS_ASSIGNED"
    assert without.returncode != 0  # the handshake needs a certificate of our CA
    assert set(probes.values()) == {SERVING}
    handled = [e for e in secured.events("rpc_handled") if e["method"].endswith("AutoAssignTrainer")]
    assert [e["caller"] for e in handled] == ["spiffe://booking.local/client"]


@pytest.mark.slow
def test_serve_refuses_a_non_loopback_address_without_an_explicit_auth_mode(empty_database_url: str) -> None:
    env = service_env(
        {"BOOKING_DATABASE_URL": empty_database_url, "BOOKING_LISTEN_ADDR": f"0.0.0.0:{free_port()}"}
    )

    result = run_cli("serve", env, timeout_seconds=60)

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "BOOKING_AUTH_MODE is unset" in result.stderr
