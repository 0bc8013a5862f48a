"""Use case: waitlist promotion (product.md section 5) and PromoteWaitlisted.

A pass takes WAITLISTED purchases whose first session is still to come and, per zone and course,
tries them oldest first (create time, then id) under a lock on that group held across replicas,
so a younger purchase is never tried before an older one of its group in the same pass and can
never take a trainer the older one could have had. A try is the assignment decision of section 1
on the purchase's stored sessions: rules 1-7, the ranking, the all-or-nothing reservation,
the read-model sync, in one transaction on the purchase row (re-checked under its lock, so it is
promoted once whoever tries it; a purchase that stays locked ends its group's pass there, so no
younger purchase goes before it).

Passes come from three places: capacity events (a freeing change or a directory or zone change,
written in that change's transaction; jobs/promotion.py claims them), the periodic sweep, and
operators (the PromoteWaitlisted RPC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog

from booking_server.domain.errors import FieldViolation, require_no_violations
from booking_server.domain.model import PurchaseStatus, Zone
from booking_server.domain.purchase import StoredPurchase
from booking_server.domain.validation import is_uuid, validate_uuid_field
from booking_server.services.clock import Clock
from booking_server.services.conflict_retry import Deadline, retrying_conflicts
from booking_server.services.ports.capacity_events import CapacityEvent
from booking_server.services.ports.directory import (
    CandidateList,
    TrainerDirectory,
    TrainerDirectoryUnavailableError,
)
from booking_server.services.ports.group_locks import GroupLocks
from booking_server.services.ports.purchases import WaitingPurchase, WaitlistQuery
from booking_server.services.ranking import rank_for_sessions
from booking_server.services.reservation import reserve_first_ranked
from booking_server.services.sync_sessions import SyncSessions
from booking_server.services.unit_of_work import TransactionConflictError, UnitOfWorkFactory

log = structlog.get_logger(__name__)

PROMOTED_MESSAGE = "Trainer assigned from the waitlist"
DEFAULT_MAX_PURCHASES = 200
# How long a pass waits for another replica's pass over the same group: a pass started before
# a freeing change may already be past the purchase that change can serve, so a pass reacting
# to the change waits its turn rather than skip the group (and, past this, keeps its triggers
# for another try). A sweep does not wait.
REACTION_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PassResult:
    promoted: tuple[StoredPurchase, ...] = ()
    tried: int = 0
    skipped_past: int = 0  # waiting purchases whose first session has started: never tried
    # A group this pass could not finish (another pass held it too long, the directory was down,
    # a purchase stayed locked): its triggers must be kept for another try.
    unfinished: bool = False

    def __add__(self, other: PassResult) -> PassResult:
        return PassResult(
            self.promoted + other.promoted,
            self.tried + other.tried,
            self.skipped_past + other.skipped_past,
            self.unfinished or other.unfinished,
        )


class PromoteWaitlisted:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        directory: TrainerDirectory,
        clock: Clock,
        sync: SyncSessions,
        group_locks: GroupLocks,
        on_promoted: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow_factory = uow_factory
        self._on_promoted = on_promoted  # counts promotions (booking_promotions_total)
        self._directory = directory
        self._clock = clock
        self._sync = sync
        self._group_locks = group_locks

    def __call__(self, *, purchase_id: str = "", max_purchases: int = 0) -> PassResult:
        """The operators' pass: one purchase, or every waiting one (oldest first, at most max)."""
        violations: list[FieldViolation] = []
        if purchase_id:
            validate_uuid_field(purchase_id, "purchase_id", violations)
        if max_purchases < 0:
            violations.append(FieldViolation("max_purchases", "must be 0 (default) or more"))
        require_no_violations(violations)
        query = WaitlistQuery(purchase_id=purchase_id.lower() or None)
        limit = max_purchases or DEFAULT_MAX_PURCHASES
        return self._pass([query], limit=limit, wait_seconds=REACTION_WAIT_SECONDS)

    def sweep(self, max_purchases: int = DEFAULT_MAX_PURCHASES) -> PassResult:
        """The periodic pass over every waiting purchase: it catches what no trigger announced
        (an external directory's changes, a directory that is back)."""
        return self._pass([WaitlistQuery()], limit=max_purchases, wait_seconds=0.0)

    def react(self, events: Iterable[CapacityEvent]) -> PassResult:
        """A pass over the waiting purchases that these changes may serve."""
        waiting, _ = self._waiting([WaitlistQuery()], limit=1)
        if not waiting:
            return PassResult()  # nobody waits: no directory reads for a burst of trainer upserts
        queries = self._queries_for(events)
        return self._pass(queries, limit=DEFAULT_MAX_PURCHASES, wait_seconds=REACTION_WAIT_SECONDS)

    def _queries_for(self, events: Iterable[CapacityEvent]) -> list[WaitlistQuery]:
        """A freed or changed trainer may serve its courses in its home zone, or (none) in every
        zone of its operator; a changed zone may serve its own waiting purchases."""
        queries: list[WaitlistQuery] = []
        trainer_ids = sorted({e.trainer_id for e in events if e.trainer_id})
        zone_ids = sorted({e.zone_id for e in events if e.trainer_id is None and e.zone_id})
        for trainer_id in trainer_ids:
            try:
                trainer = self._directory.get_candidate(trainer_id, budget_seconds=None)
            except TrainerDirectoryUnavailableError:
                log.warning("promotion_trainer_unreadable", trainer_id=trainer_id)
                continue  # the sweep tries again once the directory is back
            if trainer is None or not trainer.active:
                continue
            # Another directory's record may hold ids that are not UUIDs: they match no purchase
            # here (and must not reach SQL as one).
            if not all(is_uuid(i) for i in (trainer.zone_id, trainer.franchise_id) if i):
                continue
            queries.append(
                WaitlistQuery(
                    course_ids=tuple(c for c in trainer.certified_course_ids if is_uuid(c)),
                    zone_id=trainer.zone_id,
                    operator_franchise_id=trainer.franchise_id,
                    any_zone_of_operator=trainer.zone_id is None,
                )
            )
        queries.extend(WaitlistQuery(zone_id=zone_id) for zone_id in zone_ids)
        return queries

    def _waiting(self, queries: list[WaitlistQuery], *, limit: int) -> tuple[list[WaitingPurchase], int]:
        """The waiting purchases still to be served (oldest first), and how many have started."""
        now = self._clock.now_local()
        found: dict[str, WaitingPurchase] = {}
        started = 0
        with self._uow_factory() as uow:
            for query in queries:
                for purchase in uow.purchases.waiting(query, now=now, limit=limit):
                    found.setdefault(purchase.purchase_id, purchase)
                started += uow.purchases.count_started_waiting(query, now=now)
        return list(found.values()), started

    def _pass(self, queries: list[WaitlistQuery], *, limit: int, wait_seconds: float) -> PassResult:
        """Group by zone and course, each group oldest first (the order `_waiting` gives)."""
        waiting, started = self._waiting(queries, limit=limit)
        result = PassResult(skipped_past=started)
        groups: dict[tuple[str, str], list[WaitingPurchase]] = {}
        for purchase in waiting:
            groups.setdefault((purchase.zone_id, purchase.course_id), []).append(purchase)
        for (zone_id, course_id), members in groups.items():
            result += self._group_pass(zone_id, course_id, members, wait_seconds=wait_seconds)
        if result.tried or result.skipped_past or result.unfinished:
            log.info(
                "promotion_pass_finished",
                promoted=len(result.promoted),
                tried=result.tried,
                skipped_past=result.skipped_past,
                unfinished=result.unfinished,
            )
        return result

    def _group_pass(
        self, zone_id: str, course_id: str, members: list[WaitingPurchase], *, wait_seconds: float
    ) -> PassResult:
        with self._group_locks.hold(f"promotion:{zone_id}:{course_id}", wait_seconds=wait_seconds) as held:
            if not held:
                return PassResult(unfinished=True)  # another replica's pass over this group is under way
            zone = self._zone(zone_id)
            if zone is None:
                return PassResult(tried=len(members))  # the zone is gone: nobody of it can be promoted
            try:
                candidates = self._directory.list_candidates(course_id, zone, budget_seconds=None)
            except TrainerDirectoryUnavailableError:
                log.warning("promotion_directory_unavailable", course_id=course_id)
                return PassResult(unfinished=True)
            promoted: list[StoredPurchase] = []
            for tried, member in enumerate(members, start=1):
                try:
                    outcome = self._promote(member.purchase_id, candidates)
                except TransactionConflictError:
                    # The purchase stayed locked (someone is changing it): the group's pass ends
                    # here, so no younger purchase goes before it; the next pass starts from it.
                    log.warning("promotion_group_interrupted", purchase_id=member.purchase_id)
                    return PassResult(tuple(promoted), tried=tried, unfinished=True)
                if outcome is not None:
                    promoted.append(outcome)
            return PassResult(tuple(promoted), tried=len(members))

    def _zone(self, zone_id: str) -> Zone | None:
        with self._uow_factory() as uow:
            record = uow.zones.get(zone_id)
        return None if record is None else record.zone

    def _promote(self, purchase_id: str, candidates: CandidateList) -> StoredPurchase | None:
        deadline = Deadline.after(None)
        return retrying_conflicts(
            lambda: self._try(purchase_id, candidates, deadline), deadline=deadline, name="promote_waitlisted"
        )

    def _try(self, purchase_id: str, candidates: CandidateList, deadline: Deadline) -> StoredPurchase | None:
        """One transaction: promote the purchase if a trainer can take every session now."""
        with self._uow_factory() as uow:
            uow.limit_waits(deadline)
            # Waits out a brief lock (a refusal, a sync) rather than skip the purchase: skipping
            # would let a younger one of the group go first. The group lock keeps passes apart.
            purchase = uow.purchases.lock(purchase_id)
            if purchase is None or purchase.status != PurchaseStatus.WAITLISTED or purchase.zone_id is None:
                return None  # no longer waiting (promoted, cancelled) since it was listed
            record = uow.zones.get(purchase.zone_id)
            sessions = uow.purchases.list_sessions(purchase.purchase_id)
            if record is None or not sessions:
                return None
            choice = rank_for_sessions(
                uow,
                candidates=candidates,
                zone=record.zone,
                course_id=purchase.course_id,
                student_location=purchase.student_location,
                sessions=[s.as_scheduled() for s in sessions],
            )
            reserved = reserve_first_ranked(uow, choice, purchase_id=purchase.purchase_id, sessions=sessions)
            if reserved.trainer_id is None:
                return None
            promoted = uow.purchases.mark_assigned(
                purchase.purchase_id, trainer_id=reserved.trainer_id, message=PROMOTED_MESSAGE
            )
            self._sync.mirror(uow, promoted)
            uow.commit()
        log.info("purchase_promoted", purchase_id=promoted.purchase_id, trainer_id=promoted.trainer_id)
        self._on_promoted()
        return promoted
