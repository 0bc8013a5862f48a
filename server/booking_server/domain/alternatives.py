"""Where SuggestAlternatives looks, and in which order (product.md section 7).

Candidates are every (start date, time slot) with the start date from the requested one to
`window_days` later and the time T + k x 20 minutes for |k| <= 9, within the same day (and, for
SUNDAY_ONLY, no later than 22:40, as validation asks of any request). They are ranked by the
date shift, then the absolute time shift, earlier before later on a tie; the requested schedule
itself (no shift) is first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from booking_server.domain.errors import FieldViolation
from booking_server.domain.model import MINUTES_PER_DAY, ClassType, DeliveryMode, parse_hhmm
from booking_server.domain.schedule import add_minutes
from booking_server.domain.validation import LATEST_SUNDAY_SLOT

DEFAULT_MAX_RESULTS = 5
MAX_RESULTS = 20
DEFAULT_WINDOW_DAYS = 14
MAX_WINDOW_DAYS = 60
STEP_MINUTES = 20
MAX_STEPS = 9  # T +- 9 x 20 minutes: three hours either side


@dataclass(frozen=True, slots=True)
class SearchBounds:
    max_results: int
    window_days: int


@dataclass(frozen=True, slots=True)
class Candidate:
    start_date: date
    time_slot: str
    day_shift: int  # >= 0
    minute_shift: int  # negative: earlier than requested

    @property
    def rank_key(self) -> tuple[int, int, int]:
        return (self.day_shift, abs(self.minute_shift), self.minute_shift)


def check_bounds(max_results: int, window_days: int, violations: list[FieldViolation]) -> SearchBounds:
    """0 means the default; anything else outside 1..max is a violation."""
    if not 0 <= max_results <= MAX_RESULTS:
        violations.append(
            FieldViolation("max_results", f"must be between 1 and {MAX_RESULTS} (0 = {DEFAULT_MAX_RESULTS})")
        )
    if not 0 <= window_days <= MAX_WINDOW_DAYS:
        violations.append(
            FieldViolation(
                "window_days", f"must be between 1 and {MAX_WINDOW_DAYS} (0 = {DEFAULT_WINDOW_DAYS})"
            )
        )
    return SearchBounds(max_results or DEFAULT_MAX_RESULTS, window_days or DEFAULT_WINDOW_DAYS)


def candidate_grid(
    *, start_date: date, time_slot: str, window_days: int, class_type: ClassType, delivery_mode: DeliveryMode
) -> list[Candidate]:
    """Every candidate, best first."""
    requested = parse_hhmm(time_slot)
    latest = MINUTES_PER_DAY - 1
    if delivery_mode == DeliveryMode.SUNDAY_ONLY and class_type != ClassType.HYBRID:
        latest = parse_hhmm(LATEST_SUNDAY_SLOT)
    candidates = [
        Candidate(
            start_date + timedelta(days=day),
            add_minutes(time_slot, step * STEP_MINUTES),
            day,
            step * STEP_MINUTES,
        )
        for day in range(window_days + 1)
        for step in range(-MAX_STEPS, MAX_STEPS + 1)
        if 0 <= requested + step * STEP_MINUTES <= latest
    ]
    return sorted(candidates, key=lambda c: c.rank_key)
