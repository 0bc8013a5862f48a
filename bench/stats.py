"""Percentiles and the latency summary, one definition for every figure in the report."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (no interpolation: a reported p99 is a
    latency some call really had). NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary_ms(latencies_s: Sequence[float]) -> dict[str, float | None]:
    """count, mean, p50, p95, p99, max in milliseconds; None (JSON null) when there were no calls."""
    values = sorted(latencies_s)
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "count": len(values),
        "mean": round(1000.0 * sum(values) / len(values), 3),
        "p50": round(1000.0 * percentile(values, 50), 3),
        "p95": round(1000.0 * percentile(values, 95), 3),
        "p99": round(1000.0 * percentile(values, 99), 3),
        "max": round(1000.0 * values[-1], 3),
    }
