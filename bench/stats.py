"""The one percentile the benchmark reports, so every table reads its p50 and p99 alike."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank value at ``fraction`` of ``ordered`` (sorted); NaN when it is empty."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
