"""Load generator: a separate process calling AutoAssignTrainer with C callers for a fixed time.

grpc.aio with C coroutines on one channel: on a 2-core machine shared with the server and
PostgreSQL, one event loop costs the client far less CPU than C threads fighting for the GIL,
so the client is not what limits the figures (its CPU use is reported to prove it).

Usage: python -m bench.driver --target HOST:PORT --world world.json --callers C --seconds S
       [--warmup W] [--seed N] [--validate-only] [--server-pid P --postmaster-pid Q [--directory-pid D]]
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import grpc
from booking.v1 import booking_service_pb2 as pb
from booking.v1 import booking_service_pb2_grpc
from booking.v1 import common_pb2 as common

from bench.cpu import CpuSnapshot
from bench.stats import latency_summary_ms
from bench.workload import Workload

Metadata = tuple[tuple[str, str], ...]

CALL_DEADLINE_SECONDS = 10.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
SIZE_SAMPLE_EVERY = 10  # ByteSize() is not free; every 10th response is enough for a mean
ERROR_EXAMPLES_PER_CODE = 3


@dataclass
class Tally:
    """Everything observed in one timed window."""

    latencies: list[float] = field(default_factory=list)
    assigned_latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, list[str]] = field(default_factory=dict)
    rejections: Counter[str] = field(default_factory=Counter)
    # Requests where the nearest candidate was busy (schedule conflict) or taken while this
    # request was reserving it (a concurrent winner): the service had to fall back.
    conflicted: int = 0
    raced: int = 0
    eligible_total: int = 0
    response_bytes: list[int] = field(default_factory=list)

    def record_response(self, response: pb.AutoAssignTrainerResponse, latency: float) -> None:
        self.latencies.append(latency)
        purchase = response.purchase
        status = common.PurchaseStatus.Name(purchase.status).removeprefix("PURCHASE_STATUS_")
        if status == "WAITLISTED":
            status += "/" + common.WaitlistReason.Name(purchase.waitlist_reason).removeprefix(
                "WAITLIST_REASON_"
            )
        self.outcomes[status] += 1
        decision = response.decision
        ranked = decision.ranked_trainer_ids
        self.eligible_total += len(ranked)
        reasons = Counter(r.reason for r in decision.rejections)
        self.rejections.update(reasons)
        self.conflicted += reasons["SCHEDULE_CONFLICT"] > 0
        self.raced += reasons["SLOT_TAKEN_CONCURRENTLY"] > 0
        if status == "ASSIGNED":
            self.assigned_latencies.append(latency)
        if len(self.latencies) % SIZE_SAMPLE_EVERY == 0:
            self.response_bytes.append(response.ByteSize())

    def record_suggestions(self, response: pb.SuggestAlternativesResponse, latency: float) -> None:
        self.latencies.append(latency)
        self.outcomes["SUGGESTED" if response.alternatives else "NO_ALTERNATIVE"] += 1

    def record_error(self, error: grpc.aio.AioRpcError, latency: float) -> None:
        self.latencies.append(latency)
        code = error.code().name
        self.errors[code] += 1
        examples = self.error_examples.setdefault(code, [])
        if len(examples) < ERROR_EXAMPLES_PER_CODE:
            examples.append(str(error.details())[:300])


def as_suggestion(request: pb.AutoAssignTrainerRequest) -> pb.SuggestAlternativesRequest:
    """The same request for SuggestAlternatives, default window and result count."""
    suggestion = pb.SuggestAlternativesRequest()
    suggestion.ParseFromString(request.SerializeToString())  # same field numbers for the shared fields
    return suggestion


async def _caller(
    stub: booking_service_pb2_grpc.BookingServiceStub,
    workload: Workload,
    tally: Tally,
    end: float,
    *,
    suggest: bool,
    metadata: Metadata,
) -> None:
    while time.perf_counter() < end:
        request = workload.next_request()
        started = time.perf_counter()
        try:
            # The generated stub is typed for the sync API; on an aio channel the call is awaitable.
            if suggest:
                asked = stub.SuggestAlternatives(
                    as_suggestion(request), timeout=CALL_DEADLINE_SECONDS, metadata=metadata
                )
                suggestions = await cast("Awaitable[pb.SuggestAlternativesResponse]", asked)
                tally.record_suggestions(suggestions, time.perf_counter() - started)
                continue
            call = stub.AutoAssignTrainer(request, timeout=CALL_DEADLINE_SECONDS, metadata=metadata)
            response = await cast("Awaitable[pb.AutoAssignTrainerResponse]", call)
        except grpc.aio.AioRpcError as error:
            tally.record_error(error, time.perf_counter() - started)
        else:
            tally.record_response(response, time.perf_counter() - started)


async def _window(
    stub: booking_service_pb2_grpc.BookingServiceStub,
    workload: Workload,
    callers: int,
    seconds: float,
    *,
    suggest: bool = False,
    metadata: Metadata = (),
) -> tuple[Tally, float]:
    """Run C callers until `seconds` pass; calls in flight then finish and count. Returns the
    tally and the elapsed time up to the last completion (the throughput denominator)."""
    tally = Tally()
    started = time.perf_counter()
    end = started + seconds
    await asyncio.gather(
        *(_caller(stub, workload, tally, end, suggest=suggest, metadata=metadata) for _ in range(callers))
    )
    return tally, time.perf_counter() - started


def _summary(tally: Tally, elapsed: float, cpu: dict[str, float]) -> dict[str, Any]:
    calls = len(tally.latencies)
    assigned = tally.outcomes.get("ASSIGNED", 0)
    answered = calls - sum(tally.errors.values())
    return {
        "elapsed_seconds": round(elapsed, 3),
        "calls": calls,
        "calls_per_second": round(calls / elapsed, 2),
        "assigned": assigned,
        "assigned_per_second": round(assigned / elapsed, 2),
        "latency_ms": latency_summary_ms(tally.latencies),
        "assigned_latency_ms": latency_summary_ms(tally.assigned_latencies),
        "outcomes": dict(tally.outcomes.most_common()),
        "errors": dict(tally.errors.most_common()),
        "error_examples": tally.error_examples,
        "rejections": dict(tally.rejections.most_common()),
        "requests_with_schedule_conflict": tally.conflicted,
        "requests_with_slot_taken_concurrently": tally.raced,
        "mean_eligible_trainers": round(tally.eligible_total / answered, 2) if answered else None,
        "mean_response_bytes": (
            round(sum(tally.response_bytes) / len(tally.response_bytes)) if tally.response_bytes else None
        ),
        "cpu": cpu,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workload = Workload.from_file(Path(args.world), seed=args.seed, validate_only=args.validate_only)
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
    async with grpc.aio.insecure_channel(args.target, options=options) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=10)
        stub = booking_service_pb2_grpc.BookingServiceStub(channel)
        # Warm-up, not counted: connections, the server's pool and caches, the loop itself.
        metadata = _authorization(args.token_file)
        if args.warmup > 0:
            await _window(stub, workload, args.callers, args.warmup, suggest=args.suggest, metadata=metadata)
        pids = (args.server_pid, args.postmaster_pid, args.directory_pid)
        cpu_before = CpuSnapshot.take(*pids)
        client_before = time.process_time()
        tally, elapsed = await _window(
            stub, workload, args.callers, args.seconds, suggest=args.suggest, metadata=metadata
        )
        cpu_after = CpuSnapshot.take(*pids)
        cpu = cpu_after.cores_used_since(cpu_before, elapsed)
        cpu["client_cores"] = round((time.process_time() - client_before) / elapsed, 2)
        # Whatever else ran on the machine meanwhile (other jobs, other users): a disturbed figure.
        ours = sum(cpu.get(f"{name}_cores", 0.0) for name in ("server", "directory", "postgres", "client"))
        cpu["other_cores"] = round(max(0.0, cpu["machine_busy_cores"] - ours), 2)
    return _summary(tally, elapsed, cpu) | cpu_after.ms_per_call_since(cpu_before, len(tally.latencies))


def _authorization(token_file: Path | None) -> Metadata:
    """The bearer token of a server in `jwt` mode, sent on every call (the jwt phase)."""
    if token_file is None:
        return ()
    return (("authorization", f"Bearer {token_file.read_text().strip()}"),)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.driver", description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--world", required=True, help="world JSON written by the orchestrator")
    parser.add_argument("--callers", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--validate-only", action="store_true")
    parser.add_argument("--suggest", action="store_true", help="call SuggestAlternatives instead")
    parser.add_argument("--token-file", type=Path, help="a JWT sent as `authorization: Bearer` on every call")
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--postmaster-pid", type=int, default=0)
    parser.add_argument("--directory-pid", type=int, default=0, help="a directory served by its own process")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = asyncio.run(run(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
