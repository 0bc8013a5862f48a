"""Each command's --help lists the environment variables it reads (config.ENVIRONMENT)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from booking_server.cli import COMMANDS, build_parser
from booking_server.config import ENVIRONMENT, environment_of, load_settings


class RecordingEnvironment(dict[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("load_settings must look names up, not list them")


def test_the_environment_table_names_exactly_the_variables_load_settings_reads() -> None:
    env = RecordingEnvironment()

    load_settings(env)

    assert env.read == {variable.name for variable in ENVIRONMENT}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_help_lists_its_environment_variables(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([command, "--help"])

    shown = capsys.readouterr().out
    assert exited.value.code == 0
    assert shown.startswith(f"usage: booking-service {command}")
    listed = {
        line.split()[0] for line in shown.split("environment variables:")[1].splitlines() if line.strip()
    }
    assert listed == {variable.name for variable in environment_of(command)}


def test_only_serve_reads_the_listen_address() -> None:
    assert [c for c in sorted(COMMANDS) if "BOOKING_LISTEN_ADDR" in {v.name for v in environment_of(c)}] == [
        "serve"
    ]
