"""`grpcurl ... booking.v1.BookingService/WatchScheduleChanges` prints events as another
terminal makes changes (the README's walkthrough), against the real `booking-service serve`."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import replica_env
from tests.support.factories import fresh_id
from tests.support.processes import GRPCURL, ServerProcess, grpcurl_json, serving

CALL = "booking.v1.BookingService/"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = replica_env(database_url, BOOKING_WATCH_HEARTBEAT_SECONDS="2")
    with serving(env, log_dir=tmp_path_factory.mktemp("grpcurl-watch")) as running:
        yield running


class Printed:
    """What a streaming grpcurl prints: one JSON object per message, parsed as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._text = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            with self._lock:
                self._text += line

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            text = self._text
        decoder = json.JSONDecoder()
        found: list[dict[str, Any]] = []
        index = 0
        while (start := text.find("{", index)) != -1:
            try:
                message, index = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                break  # the rest is still being printed
            found.append(message)
        return found

    def wait_for(self, change_type: str, *, timeout_seconds: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            for message in self.messages():
                if message["change"]["type"] == change_type:
                    return message["change"]  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"no {change_type} printed: {self.messages()}")


def test_grpcurl_prints_schedule_changes_as_another_terminal_makes_them(server: ServerProcess) -> None:
    trainer = {"trainer_id": fresh_id(), "display_name": "Asha Verma", "active": True}
    # The directory must know the trainer: BlockTrainerTime refuses unknown ids.
    grpcurl_json(server.address, "booking.v1.TrainerDirectoryService/UpsertTrainer", {"trainer": trainer})
    trainer_id = trainer["trainer_id"]
    day = (date.today() + timedelta(days=200)).isoformat()
    watch = subprocess.Popen(
        [
            str(GRPCURL),
            "-plaintext",
            "-d",
            json.dumps({"trainer_ids": [trainer_id]}),
            server.address,
            CALL + "WatchScheduleChanges",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = Printed(watch)
        heartbeat = printed.wait_for("CHANGE_TYPE_HEARTBEAT")
        block = {
            "trainer_id": trainer_id,
            "date": day,
            "start_time": "07:00",
            "duration_minutes": 45,
            "reason": "x",
        }
        slot = grpcurl_json(server.address, CALL + "BlockTrainerTime", block)["slot"]
        blocked = printed.wait_for("CHANGE_TYPE_SLOT_BLOCKED")
        grpcurl_json(server.address, CALL + "UnblockTrainerTime", {"slot_id": slot["slot_id"]})
        released = printed.wait_for("CHANGE_TYPE_SLOT_RELEASED")
    finally:
        watch.terminate()
        watch.wait(10)

    assert heartbeat["resume_token"]
    assert (blocked["slot"]["slot_id"], blocked["slot"]["start_time"]) == (slot["slot_id"], "07:00")
    assert released["slot"]["slot_id"] == slot["slot_id"]
    assert blocked["commit_time"]
