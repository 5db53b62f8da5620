"""Summaries of timing samples: interpolated percentiles, medians and millisecond digests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks, as numpy computes it."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


def milliseconds(seconds: Sequence[float]) -> dict[str, Any]:
    """n, p50, p99, mean and max of durations given in seconds, reported in milliseconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50": round(percentile(seconds, 50) * 1000, 3),
        "p99": round(percentile(seconds, 99) * 1000, 3),
        "mean": round(sum(seconds) / len(seconds) * 1000, 3),
        "max": round(max(seconds) * 1000, 3),
    }


def brief(digest: dict[str, Any]) -> str:
    """'p50 1.2 ms, p99 3.4 ms' for a digest made by ``milliseconds``."""
    return f"p50 {digest['p50']:.1f} ms, p99 {digest['p99']:.1f} ms"
