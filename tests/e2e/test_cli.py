"""The `booking-service` commands as a user runs them: help, a busy port, seed-demo's output."""

from __future__ import annotations

import pytest
from booking_server.config import environment_of

from tests.support.processes import run_cli, service_env


@pytest.mark.parametrize("command", ["serve", "migrate", "seed-demo"])
def test_each_command_has_its_own_help_with_the_environment_it_reads(command: str) -> None:
    result = run_cli(command, service_env({}), "--help", timeout_seconds=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: booking-service {command} [-h]")
    assert "environment variables:" in result.stdout
    for variable in environment_of(command):
        assert variable.name in result.stdout


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(busy_address: str, database_url: str) -> None:
    env = service_env({"BOOKING_LISTEN_ADDR": busy_address, "BOOKING_DATABASE_URL": database_url})

    result = run_cli("serve", env, timeout_seconds=60)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"booking-service: cannot listen on {busy_address}: address already in use"
    ]
    assert result.stdout == ""


def test_seed_demo_prints_what_it_wrote_and_the_same_again(empty_database_url: str) -> None:
    env = service_env({"BOOKING_DATABASE_URL": empty_database_url})
    assert run_cli("migrate", env).returncode == 0

    first = run_cli("seed-demo", env)
    second = run_cli("seed-demo", env)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Wrote 7 demo zones and 35 demo trainers (28 active)")
    assert "  d3e02000-0000-4000-8000-000000000001  Demo Hyderabad Central" in lines
    assert "  d3e0c000-0000-4000-8000-000000000001" in lines
    assert not any(line.startswith("{") for line in lines), "logs belong on stderr"
    assert second.stdout == first.stdout
