"""Interactive capacity: the largest row count whose median call fits a budget, from a sweep."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple


@dataclass(frozen=True)
class Capacity:
    rows: int  # 0 when even the smallest size misses the budget
    how: str  # "interpolated", "extrapolated", "below smallest size"


def capacity(points: Sequence[Tuple[int, float]], budget_ms: float) -> Capacity:
    """``points`` are (rows, median ms) of one model, backend and thread count.

    Scanning up the sizes, the first point over budget and the one before it bracket the
    capacity; it is interpolated on log-log axes (time is a power of rows between two
    sizes). When every size fits, it is extrapolated from the largest point as time
    proportional to rows (its fixed overhead makes that conservative) and marked so.
    """
    pts = sorted(points)
    if not pts:
        raise ValueError("no points")
    for i, (rows, ms) in enumerate(pts):
        if ms >= budget_ms:
            if i == 0:
                return Capacity(rows=0, how="below smallest size")
            r0, t0 = pts[i - 1]
            if ms <= t0:  # a noisy, non-increasing pair: stay at the last size that fitted
                return Capacity(rows=r0, how="interpolated")
            slope = (math.log(rows) - math.log(r0)) / (math.log(ms) - math.log(t0))
            est = math.exp(math.log(r0) + slope * (math.log(budget_ms) - math.log(t0)))
            return Capacity(rows=int(min(max(est, r0), rows)), how="interpolated")
    rows, ms = pts[-1]
    return Capacity(rows=int(rows * budget_ms / max(ms, 1e-9)), how="extrapolated")
