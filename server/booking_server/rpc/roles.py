"""The role table of product 8.1: which role may call which method. The one place that says so.

A role includes nothing else; a caller may hold several. A method in no row is denied, and
tests/unit/test_role_table.py fails when an RPC of the service descriptors has no row here.
"""

from __future__ import annotations

BOOKING_SERVICE = "booking.v1.BookingService"
DIRECTORY_SERVICE = "booking.v1.TrainerDirectoryService"

# role -> (service, methods it may call)
ROLE_TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "booking.reader": (
        BOOKING_SERVICE,
        (
            "GetPurchase",
            "ListPurchases",
            "ListPurchaseSessions",
            "ListCertificates",
            "GetZone",
            "ListZones",
            "FindZones",
            "GetTrainerSchedule",
            "WatchScheduleChanges",
            "WatchPurchaseChanges",
        ),
    ),
    "booking.booker": (
        BOOKING_SERVICE,
        (
            "AutoAssignTrainer",
            "SuggestAlternatives",
            "CancelPurchase",
            "RescheduleSession",
            "SubstituteTrainer",
        ),
    ),
    "booking.operator": (
        BOOKING_SERVICE,
        (
            "CreateZone",
            "UpdateZone",
            "BlockTrainerTime",
            "UnblockTrainerTime",
            "SyncPurchaseSessions",
            "SyncSession",
            "SyncAllUnsyncedSessions",
            "CompleteSession",
            "GenerateCertificates",
            "PromoteWaitlisted",
        ),
    ),
    "directory.reader": (DIRECTORY_SERVICE, ("GetTrainer", "BatchGetTrainers", "ListTrainers")),
    "directory.writer": (DIRECTORY_SERVICE, ("UpsertTrainer", "DeleteTrainer")),
}

# Full method name ("/booking.v1.BookingService/GetPurchase") -> the role it needs.
REQUIRED_ROLE: dict[str, str] = {
    f"/{service}/{method}": role for role, (service, methods) in ROLE_TABLE.items() for method in methods
}

# Services anyone may call without credentials: probes and tools must reach them.
OPEN_SERVICE_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)


def is_open(method: str) -> bool:
    return method.startswith(OPEN_SERVICE_PREFIXES)


def required_role(method: str) -> str | None:
    """The role `method` needs; None when it has no row (then it is denied)."""
    return REQUIRED_ROLE.get(method)
